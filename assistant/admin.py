from assistant import admin_sms  # noqa: F401
