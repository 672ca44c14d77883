"""Reads, one module per concept; import from the module, e.g. ``selectors.places``."""
