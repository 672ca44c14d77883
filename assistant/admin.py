"""Admin registrations, one module per concept, imported here so Django finds them."""

from assistant import (  # noqa: F401
    admin_alerts,
    admin_content,
    admin_delivery,
    admin_imports,
    admin_interface,
    admin_sms,
)
