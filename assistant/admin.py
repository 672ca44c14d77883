"""Admin registrations, one module per concept, imported here so Django finds them."""

from assistant import admin_delivery, admin_imports, admin_interface, admin_sms  # noqa: F401
