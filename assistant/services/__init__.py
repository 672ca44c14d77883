"""Writes, one module per concept; import from the module, e.g. ``services.places``."""
