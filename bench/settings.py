"""Settings for the benchmarks: the project's own, plus a bare view to compare against."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"
TWILIO_AUTH_TOKEN = "bench-only-auth-token"
SMS_REPLIES_PER_HOUR = 1_000_000
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
