"""Settings for the know-your-police assistant, all read from the environment.

One file for every deployment: embedded defaults make ``make run`` work on a fresh machine
(DEBUG on, SQLite, no Redis, console SMS), and production (DEBUG off) refuses to start
without the secrets it needs. See the settings table in README.md.
"""

import base64
import binascii
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import django.conf.locale
import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from config.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_rates,
    env_required,
    env_whatsapp_templates,
)

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_required(
    "SECRET_KEY", debug=DEBUG, development_default="development-only-secret-key-not-for-production"
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set. It is required when DEBUG is off: list the host names "
        "this site answers to, separated by commas."
    )

PUBLIC_BASE_URL = env_required(
    "PUBLIC_BASE_URL", debug=DEBUG, development_default="http://127.0.0.1:8000"
).rstrip("/")
_public = urlsplit(PUBLIC_BASE_URL)
if _public.scheme not in ("http", "https") or not _public.netloc or _public.path:
    raise ImproperlyConfigured(
        f"PUBLIC_BASE_URL must be an origin such as https://example.org, not {PUBLIC_BASE_URL!r}."
    )
if not DEBUG and _public.scheme != "https":
    raise ImproperlyConfigured("PUBLIC_BASE_URL must use https when DEBUG is off.")

# Phone numbers are only ever stored as a keyed HMAC (for look-ups) or encrypted (to send
# alerts later). Both keys are secrets; development uses fixed, public ones.
PHONE_HASH_KEY = env_required(
    "PHONE_HASH_KEY", debug=DEBUG, development_default="development-only-phone-hash-key"
)
if len(PHONE_HASH_KEY) < 16:
    raise ImproperlyConfigured("PHONE_HASH_KEY must be at least 16 characters long.")
FIELD_ENCRYPTION_KEY = env_required(
    "FIELD_ENCRYPTION_KEY",
    debug=DEBUG,
    development_default="ZGV2ZWxvcG1lbnQtb25seS1maWVsZC1rZXktMzJieXQ=",
)
try:
    if len(base64.urlsafe_b64decode(FIELD_ENCRYPTION_KEY.encode())) != 32:
        raise ValueError
except (ValueError, binascii.Error):
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64-encoded bytes); make "
        'one with: python -c "from cryptography.fernet import Fernet; '
        'print(Fernet.generate_key().decode())"'
    ) from None

INSTALLED_APPS = [
    "modeltranslation",  # must come before django.contrib.admin
    # The admin site itself is OrganizerAdminSite (two-factor); admin.site.register works as usual.
    "assistant.organizers.admin_config.OrganizerAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "assistant",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Twilio's webhooks go from here straight to their view (config/webhooks.py).
    "config.webhooks.TwilioWebhookMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so that it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "assistant.public.context_processors.site",
            ],
            # The tag libraries live with their features; the {% load %} names are unchanged.
            "libraries": {
                "organizer": "assistant.organizers.organizer_tags",
                "site_tags": "assistant.public.site_tags",
                "trust": "assistant.trust.trust_tags",
            },
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A stopped server refuses at once; one that hangs (or a lost network) must not hold a
    # webhook past Twilio's 15 s: the text goes to the spool instead (assistant/sms/spool.py).
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT_SECONDS", 2, minimum=2),
        **DATABASES["default"].get("OPTIONS", {}),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default answers texts in the web process, several at once. SQLite's
    # defaults refuse a second writer at once ("database is locked") and a reader upgrading
    # to a writer fails instead of waiting. WAL lets reads go on during a write; IMMEDIATE
    # takes the write lock when a transaction starts, so it waits (up to the timeout) rather
    # than failing half-way. config/sqlite.py logs this once per process.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": env_float("SQLITE_BUSY_TIMEOUT_SECONDS", 20.0, minimum=0.1),
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis is the Celery broker and the cache. Without it (make run), tasks run eagerly in the
# web process and the cache lives in memory.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.PooledClientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "kyp",
            "TIMEOUT": 60 * 60,
            # A cache that does not answer within a second is treated as down (config/cache.py
            # then fails at once for a moment): an incoming text must still be answered
            # within Twilio's 15 seconds, and it touches the cache several times.
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "TIMEOUT": 60 * 60,
        }
    }

# Celery: see config/celery.py for why each delivery setting is what it is.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_MAX_RETRY_DELAY = 15 * 60
CELERY_MAX_REDELIVERIES = env_int("CELERY_MAX_REDELIVERIES", 3, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * 60 * 60,
    # Queueing a task fails within about two seconds when Redis is down, so the webhook
    # answers in its TwiML in time. The read timeout stays above kombu's 1-second BRPOP, which a
    # closing channel waits for.
    "socket_connect_timeout": 1.0,
    "socket_timeout": 2.0,
    # Opening a connection to publish is tried once (kombu's default retries it for 4 s and
    # more); a publish with a retry policy (apply_async's default) still retries by it.
    "max_retries": 0,
}
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that lost Redis keeps trying to reconnect (every 2 s at first, then at most every
# 30 s) for as long as it takes, instead of exiting after 100 tries (about 45 minutes).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_IGNORE_RESULT = True
# Celery closes the database connection after this many tasks (twice that many task starts
# and ends); between, connections live as in a web request (config/celery.py says why).
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Answering texts and sending replies ("replies") never wait behind an alert's thousands of
# messages ("celery"): a worker started without -Q consumes both, taking from each in turn.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("replies"), Queue("celery"))
CELERY_TASK_ROUTES = {
    "assistant.tasks.inbound_answer": {"queue": "replies"},
    "assistant.tasks.inbound_drain": {"queue": "replies"},
    "assistant.tasks.inbound_spool_drain": {"queue": "replies"},
}
# ICE's 287(g) page is checked this often for a new list (assistant/ice_import, fetch_287g).
ICE_FETCH_EVERY_HOURS = env_int("ICE_FETCH_EVERY_HOURS", 6, minimum=1)
# How often a stranded outbound message (its task lost with a worker or with Redis's data) is
# looked for: a cheap indexed query and one cache read per 1,000 unfinished messages.
SMS_REQUEUE_EVERY_SECONDS = env_float("SMS_REQUEUE_EVERY_SECONDS", 5.0, minimum=1.0)
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "assistant.tasks.worker_heartbeat", "schedule": 60.0},
    # Alerts whose sending stopped (and, a second time, stranded messages).
    "outbound-requeue-stale": {"task": "assistant.tasks.requeue_stale", "schedule": 60.0},
    "outbound-requeue-stranded": {
        "task": "assistant.tasks.outbound_requeue_stranded",
        "schedule": SMS_REQUEUE_EVERY_SECONDS,
    },
    "outbound-close-sent": {"task": "assistant.tasks.outbound_close_sent", "schedule": 5 * 60.0},
    # Texts whose drain was lost (assistant/sms/wake.py): one indexed query when there are none.
    "inbound-requeue-stale": {"task": "assistant.tasks.inbound_requeue_stale", "schedule": 10.0},
    # Texts kept in Redis while the database was down (assistant/sms/spool.py); one Redis
    # call when there are none.
    "inbound-spool-drain": {"task": "assistant.tasks.inbound_spool_drain", "schedule": 5.0},
    "purge-expired": {"task": "assistant.tasks.purge_expired", "schedule": 24 * 60 * 60.0},
    "forum-reminders": {"task": "assistant.tasks.forum_reminders_send", "schedule": 15 * 60.0},
    "fetch-287g": {
        "task": "assistant.tasks.fetch_287g",
        "schedule": ICE_FETCH_EVERY_HOURS * 60 * 60.0,
    },
}

# SMS. Without Twilio credentials messages are printed by the console backend.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="https://api.twilio.com").rstrip("/")
# WhatsApp through Twilio's WhatsApp sender (see "Connecting WhatsApp" in README.md): replies
# to a whatsapp: address come from this sender. Outside WhatsApp's 24-hour window an alert goes
# only as the approved template named here for the subscriber's language; without one it is
# not sent on WhatsApp and the alert's page says why.
TWILIO_WHATSAPP_FROM = env.str("TWILIO_WHATSAPP_FROM", default="").strip()
if TWILIO_WHATSAPP_FROM and not TWILIO_WHATSAPP_FROM.startswith("whatsapp:"):
    TWILIO_WHATSAPP_FROM = "whatsapp:" + TWILIO_WHATSAPP_FROM
TWILIO_WHATSAPP_ALERT_TEMPLATES = env_whatsapp_templates("TWILIO_WHATSAPP_ALERT_TEMPLATES")
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default=(
        "assistant.delivery.backends.twilio.TwilioBackend"
        if TWILIO_ACCOUNT_SID
        else "assistant.delivery.backends.console.ConsoleBackend"
    ),
)
# The backends moved from assistant.sms.backends; a setting written with the old path still works.
if SMS_BACKEND.startswith("assistant.sms.backends."):
    SMS_BACKEND = "assistant.delivery.backends." + SMS_BACKEND.removeprefix(
        "assistant.sms.backends."
    )

# Axes first: it refuses a locked-out username and IP before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Public pages (assistant/public/page_cache.py): each process reads the content version at
# most this often and keeps this many rendered pages in memory besides the shared cache.
PUBLIC_CONTENT_VERSION_SECONDS = env_float("PUBLIC_CONTENT_VERSION_SECONDS", 1.0, minimum=0.0)
PUBLIC_PAGES_IN_MEMORY = env_int("PUBLIC_PAGES_IN_MEMORY", 500, minimum=0)
# The SMS bot (assistant/sms/). Abuse limits: replies per number per hour, and the loop guard
# that drops the same text arriving again and again (another bot answering ours).
# ICE replaces its 287(g) lists every few days; past this many days an answer warns that
# the list it comes from may be out of date.
ICE_LIST_STALE_DAYS = env_int("ICE_LIST_STALE_DAYS", 14, minimum=1)
# Spreadsheets within bounds (assistant/ice_import/bounds.py): a list beyond any of these is
# refused in seconds, before it is parsed. The defaults are far above ICE's ~70 KB lists.
ICE_SHEET_MAX_BYTES = env_int("ICE_SHEET_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
ICE_SHEET_MAX_UNCOMPRESSED_BYTES = env_int(
    "ICE_SHEET_MAX_UNCOMPRESSED_BYTES", 100 * 1024 * 1024, minimum=1
)
ICE_SHEET_MAX_ROWS = env_int("ICE_SHEET_MAX_ROWS", 50_000, minimum=1)
ICE_SHEET_MAX_COLUMNS = env_int("ICE_SHEET_MAX_COLUMNS", 50, minimum=1)
ICE_SHEET_MAX_CELLS = env_int("ICE_SHEET_MAX_CELLS", 500_000, minimum=1)
# fetch_287g: ICE's page, how long to wait for each answer, and the quality gate (a fetched
# list with fewer rows than this share of the last list applied is held for an organizer).
ICE_287G_PAGE_URL = env.str(
    "ICE_287G_PAGE_URL", default="https://www.ice.gov/identify-and-arrest/287g"
)
ICE_FETCH_TIMEOUT_SECONDS = env_float("ICE_FETCH_TIMEOUT_SECONDS", 30.0, minimum=1.0)
ICE_LIST_MIN_ROWS_RATIO = env_float("ICE_LIST_MIN_ROWS_RATIO", 0.7, minimum=0.0)

SMS_REPLIES_PER_HOUR = env_int("SMS_REPLIES_PER_HOUR", 30, minimum=1)
SMS_LOOP_REPEATS = env_int("SMS_LOOP_REPEATS", 3, minimum=2)
SMS_LOOP_WINDOW_SECONDS = env_int("SMS_LOOP_WINDOW_SECONDS", 300, minimum=1)
# Languages whose accents would force the costly UCS-2 encoding (Spanish á í ó ú, Portuguese
# ã õ ç, French ç ê â …). Listed here: keep the accents; otherwise send the GSM-7 form.
SMS_KEEP_ACCENTS = env_list("SMS_KEEP_ACCENTS", [])
# What HELP gives as the operator's contact (a phone number, an e-mail or a web page).
# Empty: HELP points to the site's home page in the resident's language.
SMS_HELP_CONTACT = env.str("SMS_HELP_CONTACT", default="").strip()
# Delivery (see "Delivery" in README.md). Pacing is shared by all workers through Redis and
# counted in segments per second per sender; a long code allows 1. 0 turns pacing off.
SMS_PACE_DEFAULT = env_float("SMS_PACE_DEFAULT", 1.0)
SMS_PACE_PER_SENDER = env_rates("SMS_PACE_PER_SENDER")
# Pace this fraction under the limit, for the jitter between taking a turn and reaching Twilio.
SMS_PACE_HEADROOM = env_float("SMS_PACE_HEADROOM", 0.05)
if SMS_PACE_HEADROOM >= 1:
    raise ImproperlyConfigured("SMS_PACE_HEADROOM must be below 1 (0.05 means 5%).")
# A worker waits this long at most for its turn; a message further back is re-queued with an
# ETA instead, so a worker never sleeps for minutes.
SMS_PACE_MAX_WAIT_SECONDS = env_float("SMS_PACE_MAX_WAIT_SECONDS", 2.0)
SMS_RETRY_MAX_ATTEMPTS = env_int("SMS_RETRY_MAX_ATTEMPTS", 6, minimum=1)
SMS_RETRY_BASE_DELAY_SECONDS = env_float("SMS_RETRY_BASE_DELAY_SECONDS", 10.0, minimum=0.01)
# Twilio's 429 ("too many requests") is a wait, not a failed attempt; after this many a
# message fails all the same.
SMS_RATE_LIMIT_MAX_RETRIES = env_int("SMS_RATE_LIMIT_MAX_RETRIES", 12, minimum=1)
TWILIO_TIMEOUT_SECONDS = env_float("TWILIO_TIMEOUT_SECONDS", 15.0, minimum=0.1)
# A deliver task may wait this long on the broker's queue (behind an alert) before it counts
# as lost. A task a worker has taken is re-queued seconds after that worker dies (its lease
# is TWILIO_TIMEOUT_SECONDS and a margin); one that Redis lost, at once.
SMS_REQUEUE_AFTER_SECONDS = env_int("SMS_REQUEUE_AFTER_SECONDS", 10 * 60, minimum=1)
# A message sent this long ago without a final status callback is asked about at Twilio.
SMS_SENT_CLOSE_AFTER_MINUTES = env_int("SMS_SENT_CLOSE_AFTER_MINUTES", 60, minimum=1)

# Retention (see "What we store, and for how long" in README.md; purge_expired runs daily).
CONVERSATION_RETENTION_DAYS = env_int("CONVERSATION_RETENTION_DAYS", 30, minimum=1)
# A text still unanswered this long after the webhook recorded it gets a drain of its shard
# again (its drain was lost); answering is idempotent. Above assistant.sms.wake.FLAG_SECONDS.
INBOUND_REQUEUE_AFTER_SECONDS = env_int("INBOUND_REQUEUE_AFTER_SECONDS", 20, minimum=1)
INBOUND_DEDUPE_SECONDS = env_int("INBOUND_DEDUPE_SECONDS", 10 * 60, minimum=60)
INBOUND_RETENTION_HOURS = env_int("INBOUND_RETENTION_HOURS", 24, minimum=1)
OUTBOUND_RETENTION_DAYS = env_int("OUTBOUND_RETENTION_DAYS", 90, minimum=1)
# An outbound message still unfinished this long after it was queued loses its number and
# text whatever its state (unsent, it fails).
OUTBOUND_UNSENT_RETENTION_HOURS = env_int("OUTBOUND_UNSENT_RETENTION_HOURS", 24, minimum=1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages. Django ships no language info for Tagalog or Haitian Creole; add it so that
# get_language_info() and the language picker name every language in its own words.
django.conf.locale.LANG_INFO.update(
    {
        "tl": {"bidi": False, "code": "tl", "name": "Tagalog", "name_local": "Tagalog"},
        "ht": {
            "bidi": False,
            "code": "ht",
            "name": "Haitian Creole",
            "name_local": "Kreyòl ayisyen",
        },
    }
)
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("zh-hans", _("Simplified Chinese")),
    ("vi", _("Vietnamese")),
    ("tl", _("Tagalog")),
    ("ko", _("Korean")),
    ("ar", _("Arabic")),
    ("ht", _("Haitian Creole")),
    ("pt-br", _("Brazilian Portuguese")),
    ("fr", _("French")),
    ("ru", _("Russian")),
    ("fa", _("Persian")),
]
LANGUAGES_BIDI = ["ar", "fa"]
# When a text has no reviewed translation in the resident's language, these are tried in
# order, and the page or SMS says which language it is showing instead.
CONTENT_FALLBACK_LANGUAGES = {
    "default": ["en"],
    "ht": ["fr", "en"],
    "pt-br": ["es", "en"],
}
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_LANGUAGES = tuple(code for code, _name in LANGUAGES)
# The fallback is done by the selectors, which say when they fall back; modeltranslation's
# silent fallback would show another language without saying so.
MODELTRANSLATION_FALLBACK_LANGUAGES = ()
MODELTRANSLATION_ENABLE_FALLBACKS = False

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Production hardening. Behind a TLS-terminating proxy, set SECURE_PROXY_SSL_HEADER_ENABLED.
if env_bool("SECURE_PROXY_SSL_HEADER_ENABLED", not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with every form
# POST, and Django's CSRF check then refuses all of them (the admin login included).
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = not DEBUG
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL]
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# An organizer's admin session ends after this many seconds (default 12 hours).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 60 * 60, minimum=60)

# Every response carries this policy. Nothing inline: no 'unsafe-inline' for scripts or
# styles, so injected markup cannot run. See "Organizer admin security" in README.md.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
    },
}

# How many reverse proxies in front of the site append to X-Forwarded-For. 0 (development):
# the client is REMOTE_ADDR and X-Forwarded-For is ignored, since anyone can send it.
# Behind one proxy that terminates TLS (production default), the client is the last entry.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0 if DEBUG else 1)

# Two-factor login for every staff account (django-otp, TOTP).
OTP_TOTP_ISSUER = "Know your police"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# django-otp's own throttle refuses even a right code for a while after a wrong one, so an
# organizer who mistypes is told a right code is "not right". Guessing is bounded by the
# django-axes lockout (wrong codes count toward it), so the throttle is off.
OTP_TOTP_THROTTLE_FACTOR = 0
# Seconds between the password and the code; after that the password must be given again.
TWO_FACTOR_PENDING_SECONDS = 5 * 60

# Lockout after repeated failures (passwords and codes), per username and client IP.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "assistant.ops.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
AXES_VERBOSE = False

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's request logger would print the full URL of a failed request, and query
        # strings can carry what a resident typed.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # The twilio library logs every request at INFO, look-ups with the number in the query
        # string (find_sent): a phone number in the logs, and 12 lines per message.
        "twilio.http_client": {"level": "WARNING"},
    },
}

# Content history: reverting from the history page would bypass the review workflow.
SIMPLE_HISTORY_REVERT_DISABLED = True
# How long a guide stays trusted after it is verified, before it is due for review again.
CONTENT_REVIEW_INTERVAL_DAYS = env_int("CONTENT_REVIEW_INTERVAL_DAYS", 180, minimum=1)
