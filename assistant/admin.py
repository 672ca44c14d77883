"""Admin registrations, one module per concept, imported here so Django finds them."""

from assistant import admin_imports  # noqa: F401
