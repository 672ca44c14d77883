"""Admin registrations live with each feature; imported here so Django's autodiscover finds them."""

from assistant.alerts import admin as alerts_admin  # noqa: F401
from assistant.content import admin as content_admin  # noqa: F401
from assistant.content import admin_flags, admin_interface  # noqa: F401
from assistant.delivery import admin as delivery_admin  # noqa: F401
from assistant.ice_import import admin as ice_import_admin  # noqa: F401
from assistant.sms import admin as sms_admin  # noqa: F401
from assistant.trust import admin as trust_admin  # noqa: F401
from assistant.voice import admin as voice_admin  # noqa: F401
