"""Settings come only from the environment (see .env.example and the README table).

Embedded defaults are safe for one laptop; with RR_ENV=production every secret must be
given explicitly or start-up fails loudly.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from rapidresponse.lib.net import parse_networks
from rapidresponse.lib.secrets import embedded_secret

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(os.environ.get("RR_VAR_DIR", PROJECT_DIR / "var"))


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"Environment variable {name} is required")
        return default
    return value


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


RR_ENV = env_str("RR_ENV", "embedded")
PRODUCTION = RR_ENV == "production"
if RR_ENV not in ("embedded", "production"):
    raise ImproperlyConfigured("RR_ENV must be 'embedded' or 'production'")


# System checks a setting below has made moot (each says why where it adds one).
SILENCED_SYSTEM_CHECKS: list[str] = []


def secret(name: str) -> str:
    """A secret from the environment; on a laptop, generated once and kept in var/."""
    value = os.environ.get(name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when RR_ENV=production")
    return embedded_secret(VAR_DIR, name)


SECRET_KEY = secret("SECRET_KEY")
FIELD_ENCRYPTION_KEY = secret("FIELD_ENCRYPTION_KEY")
BLIND_INDEX_KEY = secret("BLIND_INDEX_KEY")
# Reporters and hotline conversations are indexed under a key of their own, never the members'.
REPORTER_INDEX_KEY = secret("REPORTER_INDEX_KEY")
# Evidence files (photos, video, audio) are encrypted with keys of their own (AES-GCM, URL-safe
# base64 of 32 bytes; comma-separated for rotation: the first encrypts, all decrypt).
EVIDENCE_ENCRYPTION_KEY = secret("EVIDENCE_ENCRYPTION_KEY")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "http://127.0.0.1,http://localhost")
PUBLIC_URL = env_str("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # The admin site asks for the second factor too (and is not routed in production).
    "rapidresponse.accounts.admin_apps.SecondFactorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    # The API docs (/api/v1/docs) from our own static files, not a CDN (CSP: script-src 'self').
    "ninja",
    "django_tasks",
    "django_tasks_db",
    # Lower layers first (see README, Architecture): their ready() registers first, so
    # retention rules run bottom-up.
    "rapidresponse.zones",
    "rapidresponse.jobs",
    "rapidresponse.members",
    "rapidresponse.accounts",
    "rapidresponse.delivery",
    "rapidresponse.channels.sms",
    "rapidresponse.channels.email",
    "rapidresponse.channels.push",
    "rapidresponse.channels.webhook",
    "rapidresponse.codes",
    "rapidresponse.membership",
    "rapidresponse.alerts",
    "rapidresponse.incidents",
    "rapidresponse.responders",
    "rapidresponse.dispatch",
    "rapidresponse.evidence",
    "rapidresponse.support",
    "rapidresponse.switchboard",
    "rapidresponse.committees",
    "rapidresponse.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: static files keep their own long caching and need no policy.
    "rapidresponse.web.headers.SecurityHeadersMiddleware",
    "rapidresponse.web.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "rapidresponse.web.nul.DropNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # The one check of every signed-in request: the second factor, and idle sessions.
    "rapidresponse.accounts.middleware.StaffSessionMiddleware",
    # Turns a sign-in lockout into its page (accounts/lockout.py); last, as axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rapidresponse.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The pages' frame (base.html) and error pages, for every app's templates.
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "rapidresponse.web.context.network",
            ],
        },
    }
]
WSGI_APPLICATION = "rapidresponse.wsgi.application"
ASGI_APPLICATION = "rapidresponse.asgi.application"

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'rapidresponse.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
        ),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Sign-in attempts are then counted in the memory of the one web process the embedded
    # deployment runs (axes warns because several processes would each count their own).
    SILENCED_SYSTEM_CHECKS.append("axes.W001")

# Background work: RQ on Redis when REDIS_URL is set (any number of workers on any number
# of machines), otherwise a task table in the database.
TASKS_BACKEND = env_str("TASKS_BACKEND", "rq" if REDIS_URL else "database")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {sorted(_TASK_BACKENDS)}")
if TASKS_BACKEND == "rq" and not REDIS_URL:
    raise ImproperlyConfigured("TASKS_BACKEND=rq needs REDIS_URL")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
if REDIS_URL:
    INSTALLED_APPS.append("django_rq")
    # A drain task works for at most a minute and then hands on, so this is only a guard.
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 900}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "console"
LOGOUT_REDIRECT_URL = "home"
# The lockout backend first: it refuses a locked-out account or address before any password
# is checked (accounts/lockout.py).
AUTHENTICATION_BACKENDS = [
    "rapidresponse.accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# A staff session with no request for this long is signed out (a shift).
STAFF_SESSION_IDLE_HOURS = env_int("STAFF_SESSION_IDLE_HOURS", 12)
if STAFF_SESSION_IDLE_HOURS < 1:
    raise ImproperlyConfigured("STAFF_SESSION_IDLE_HOURS must be at least 1")

# Sign-in lockout (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords or codes for one
# account, or from one address, sign-in is refused for LOGIN_LOCKOUT_MINUTES, even with the
# right password. Attempts are counted in the cache only (Redis when REDIS_URL is set), by
# keyed hashes, and forgotten after the cool-off: no address is written to the database.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_LOCKOUT_MINUTES < 1:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_MINUTES must be at least 1")
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "rapidresponse.accounts.lockout.client_token"
AXES_CLIENT_STR_CALLABLE = "rapidresponse.accounts.lockout.client_str"
AXES_LOCKOUT_CALLABLE = "rapidresponse.accounts.lockout.lockout_response"
# Attempts during a lockout do not make it longer: the page can say when it ends.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

# Client addresses (rate limits, lockouts): X-Forwarded-For is believed only from these
# proxies (addresses or CIDR ranges, comma-separated); empty: from nobody.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
try:
    parse_networks(TRUSTED_PROXIES)
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from exc

# HTTPS (README, Configuration; SECURITY.md). In production every answer over plain HTTP is
# a redirect to HTTPS and browsers are told to use nothing else (HSTS) for a year.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Asking to be preloaded into browsers is the domain owner's decision, hard to undo.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Behind a reverse proxy that ends TLS: the header it sets to "https" (e.g.
# X-Forwarded-Proto). Only when configured: a client could send the header itself, so the
# proxy must always overwrite it.
_PROXY_SSL_HEADER = env_str("SECURE_PROXY_SSL_HEADER", "").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https")
    if _PROXY_SSL_HEADER else None)
if SECURE_HSTS_SECONDS < 0:
    raise ImproperlyConfigured("SECURE_HSTS_SECONDS must be 0 (off) or more")
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_HTTPONLY = True  # forms carry the token; no script reads the cookie
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Content Security Policy (django-csp): scripts, styles, fonts and workers from this site
# only, never inline; no plug-ins, no frames, forms post only here. Images also from the
# map tiles' host (rapidresponse/web/csp.py adds MAP_TILE_URL's, and nothing else) and
# data: (Leaflet cancels a tile download by pointing it at an inline blank GIF).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Languages: adding one is a translation job (a new locale/ directory), not a code change.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "America/Los_Angeles")

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Evidence uploads: at most this many bytes a file (a larger one is refused, 413, without
# being kept), and pictures of at most this many pixels (a decompression bomb is refused).
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 200 * 1024 * 1024)
EVIDENCE_MAX_PIXELS = env_int("EVIDENCE_MAX_PIXELS", 50_000_000)
# Every uploaded file is counted as it arrives and dropped past EVIDENCE_MAX_BYTES; large
# ones wait in var/uploads (private to this user) until they are encrypted.
FILE_UPLOAD_HANDLERS = [
    "rapidresponse.evidence.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "uploads")
(VAR_DIR / "uploads").mkdir(parents=True, exist_ok=True, mode=0o700)

# Email (SMTP) for the email channel.
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "alerts@rapidresponse.invalid")

# Channels: each kind of contact has one backend, chosen here like EMAIL_BACKEND.
CHANNEL_BACKEND_NAMES = {
    "sms": {"console": "rapidresponse.channels.sms.console.ConsoleSmsBackend",
            "twilio": "rapidresponse.channels.sms.twilio.TwilioSmsBackend"},
    "email": {
        "console": "rapidresponse.channels.email.console.ConsoleEmailBackend",
        "smtp": "rapidresponse.channels.email.smtp.SmtpEmailBackend",
    },
    "push": {"console": "rapidresponse.channels.push.console.ConsolePushBackend",
             "webpush": "rapidresponse.channels.push.webpush.WebPushBackend"},
    "signal": {"console": "rapidresponse.channels.signal.console.ConsoleSignalBackend",
               "signal-cli": "rapidresponse.channels.signal.rest.SignalCliBackend"},
    "webhook": {"console": "rapidresponse.channels.webhook.console.ConsoleWebhookBackend",
                "http": "rapidresponse.channels.webhook.http.WebhookBackend"},
}


def _channel_backend(kind: str, variable: str) -> str:
    """A short name from CHANNEL_BACKEND_NAMES or a dotted path to a Transport class."""
    value = env_str(variable, "console")
    return CHANNEL_BACKEND_NAMES[kind].get(value, value)


CHANNEL_BACKENDS = {
    "sms": _channel_backend("sms", "SMS_BACKEND"),
    "email": _channel_backend("email", "EMAIL_CHANNEL_BACKEND"),
    "push": _channel_backend("push", "PUSH_BACKEND"),
    "signal": _channel_backend("signal", "SIGNAL_BACKEND"),
    "webhook": _channel_backend("webhook", "WEBHOOK_BACKEND"),
}

# Twilio (SMS_BACKEND=twilio). Without the account settings the channel is disabled.
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID", "")
TWILIO_FROM_NUMBERS = env_list("TWILIO_FROM_NUMBERS", "")
TWILIO_API_BASE = env_str("TWILIO_API_BASE", "https://api.twilio.com")
# discard: ask Twilio not to keep message bodies (needs Message Privacy on the account).
TWILIO_CONTENT_RETENTION = env_str("TWILIO_CONTENT_RETENTION", "discard")
# Ask Twilio to obfuscate recipients' numbers in what it keeps ("" to omit).
TWILIO_ADDRESS_RETENTION = env_str("TWILIO_ADDRESS_RETENTION", "obfuscate")
# The SharedKey secret, when a Twilio Webhook Rule signs our webhooks with a shared key
# instead of the auth token (header X-Twilio-Webhooks-Signature-Settings).
TWILIO_WEBHOOK_SHARED_KEY = env_str("TWILIO_WEBHOOK_SHARED_KEY", "")
# Estimated price of one SMS segment in US cents, for the cost shown before sending.
SMS_SEGMENT_COST_CENTS = float(env_str("SMS_SEGMENT_COST_CENTS", "0.83"))

# Web push (PUSH_BACKEND=webpush). Keys are generated into var/ on a laptop.
VAPID_PUBLIC_KEY = env_str("VAPID_PUBLIC_KEY", "")
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY", "")
VAPID_SUBJECT = env_str("VAPID_SUBJECT", "mailto:alerts@rapidresponse.invalid")

# Signal through a signal-cli REST API (SIGNAL_BACKEND=signal-cli).
SIGNAL_API_URL = env_str("SIGNAL_API_URL", "")
SIGNAL_NUMBER = env_str("SIGNAL_NUMBER", "")

# Seconds to wait for a provider's answer; a send with no answer by then is "unknown" and is
# reconciled with the provider before anything is sent again.
OUTBOUND_HTTP_TIMEOUT = float(env_str("OUTBOUND_HTTP_TIMEOUT", "10"))

# Per-channel rate limits (messages per second), shared through Redis when REDIS_URL is set.
CHANNEL_RATE_LIMITS = {
    "sms": float(env_str("SMS_RATE_PER_SECOND", "10")),
    "email": float(env_str("EMAIL_RATE_PER_SECOND", "20")),
    "push": float(env_str("PUSH_RATE_PER_SECOND", "100")),
    "signal": float(env_str("SIGNAL_RATE_PER_SECOND", "1")),
    "webhook": float(env_str("WEBHOOK_RATE_PER_SECOND", "20")),
}

# The network.
NETWORK_NAME = env_str("NETWORK_NAME", "Rapid Response Network")
# The name an authenticator app shows next to a staff member's code.
OTP_TOTP_ISSUER = NETWORK_NAME
HOTLINE_NUMBER = env_str("HOTLINE_NUMBER", "+12135550100")
# The voice hotline (switchboard): how long the dispatchers' phones ring at each stage, and
# the longest message a caller may leave when nobody answers.
VOICE_RING_SECONDS = env_int("VOICE_RING_SECONDS", 20)
VOICE_MESSAGE_SECONDS = env_int("VOICE_MESSAGE_SECONDS", 120)
# Routing: a new report or SMS conversation not taken within this many minutes is offered to
# the backups, then after as long again to the coordinators.
ROUTING_ESCALATE_MINUTES = env_int("ROUTING_ESCALATE_MINUTES", 3)
H3_MEMBER_RESOLUTION = 8
H3_REPORT_RESOLUTION = 9
H3_PUBLIC_RESOLUTION = 7
CLUSTER_WINDOW_MINUTES = env_int("CLUSTER_WINDOW_MINUTES", 90)
INCIDENT_EXPIRY_MINUTES = env_int("INCIDENT_EXPIRY_MINUTES", 360)
ALERT_RADIUS_M = env_int("ALERT_RADIUS_M", 2000)
# public: confirmed alerts are published in the CAP feed; restricted: members and partners only.
ALERT_SCOPE = env_str("ALERT_SCOPE", "public")
if ALERT_SCOPE not in ("public", "restricted"):
    raise ImproperlyConfigured("ALERT_SCOPE must be 'public' or 'restricted'")
VERIFICATIONS_REQUIRED = env_int("VERIFICATIONS_REQUIRED", 1)
VERIFIERS_PER_REQUEST = env_int("VERIFIERS_PER_REQUEST", 3)

# Abuse controls (README, "Floods and false reports"; SECURITY.md).
# Phone numbers of these countries only (ISO 3166 codes): no code, confirmation or alert is
# paid for to a number elsewhere (SMS pumping). Texts from anywhere still reach the hotline.
PHONE_COUNTRIES = [c.upper() for c in env_list("PHONE_COUNTRIES", "US")]
# Code SMS (sign-up, sign-in, leave) the whole network sends in an hour; over it a code is
# recorded but not sent, and the console says so.
CODE_SMS_PER_HOUR = env_int("CODE_SMS_PER_HOUR", 200)
# The surge breaker: reports in 10 minutes around one place (a cell and its neighbours) or in
# the whole network above which new reports are held for review; the threshold is also at
# least SURGE_BASELINE_MULTIPLE times the place's usual 10 minutes over the last week.
SURGE_CELL_REPORTS_PER_10MIN = env_int("SURGE_CELL_REPORTS_PER_10MIN", 20)
SURGE_NETWORK_REPORTS_PER_10MIN = env_int("SURGE_NETWORK_REPORTS_PER_10MIN", 200)
SURGE_BASELINE_MULTIPLE = env_int("SURGE_BASELINE_MULTIPLE", 5)
# A surge lasts until its place has been under the threshold this long.
SURGE_HOLD_MINUTES = env_int("SURGE_HOLD_MINUTES", 30)
# Verifiers one request asks about an incident held in a surge (a flood must not send every
# verifier out to lures).
SURGE_VERIFIERS_PER_REQUEST = env_int("SURGE_VERIFIERS_PER_REQUEST", 1)
if CODE_SMS_PER_HOUR < 0 or min(SURGE_CELL_REPORTS_PER_10MIN, SURGE_NETWORK_REPORTS_PER_10MIN,
                                 SURGE_BASELINE_MULTIPLE, SURGE_HOLD_MINUTES) < 1:
    raise ImproperlyConfigured("CODE_SMS_PER_HOUR must be 0 or more, and the SURGE_ settings "
                               "at least 1")
MAX_WATCH_RADIUS_M = env_int("MAX_WATCH_RADIUS_M", 5000)
# Dispatch (responders sent to an incident): the first search radius around the place, how
# long a round waits for enough YES answers before the radius widens (doubling), and how far
# it may widen before the dispatcher is told nobody is left.
DISPATCH_RADIUS_M = env_int("DISPATCH_RADIUS_M", 2000)
DISPATCH_MAX_RADIUS_M = env_int("DISPATCH_MAX_RADIUS_M", 16000)
DISPATCH_WIDEN_AFTER_MINUTES = env_int("DISPATCH_WIDEN_AFTER_MINUTES", 10)
# Witnesses (members who opted in) asked per request at most, and the widest radius.
WITNESS_MAX_CAP = env_int("WITNESS_MAX_CAP", 200)
WITNESS_MAX_RADIUS_M = env_int("WITNESS_MAX_RADIUS_M", 5000)
if not 0 < DISPATCH_RADIUS_M <= DISPATCH_MAX_RADIUS_M:
    raise ImproperlyConfigured("DISPATCH_RADIUS_M must be positive and at most "
                               "DISPATCH_MAX_RADIUS_M")
# An alert's fan-out (alerts/fanout.py): the confirming transaction writes the nearest
# recipients' deliveries until it has at least FANOUT_FIRST_ROWS; the worker writes the rest,
# nearest first, in committed chunks of about FANOUT_CHUNK_ROWS.
FANOUT_FIRST_ROWS = env_int("FANOUT_FIRST_ROWS", 2000)
FANOUT_CHUNK_ROWS = env_int("FANOUT_CHUNK_ROWS", 40000)
if FANOUT_FIRST_ROWS < 1 or FANOUT_CHUNK_ROWS < 1:
    raise ImproperlyConfigured("FANOUT_FIRST_ROWS and FANOUT_CHUNK_ROWS must be at least 1")
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 5)
# A worker that has held a claimed delivery this long without finishing is taken to be dead:
# the sweep asks the provider what became of the message before anything is sent again.
DELIVERY_LEASE_SECONDS = env_int("DELIVERY_LEASE_SECONDS", 120)
# Sends in flight at once in each worker process (threads that only talk to providers).
DELIVERY_CONCURRENCY = env_int("DELIVERY_CONCURRENCY", 16)
if DELIVERY_LEASE_SECONDS < 10 or DELIVERY_CONCURRENCY < 1:
    raise ImproperlyConfigured("DELIVERY_LEASE_SECONDS must be at least 10 and "
                               "DELIVERY_CONCURRENCY at least 1")
# Map tiles. A tile server learns the address of everyone who opens a map and the streets
# around each pin, so in production the browser talks to no third party: MAP_TILE_URL is
# the network's own tile server, or with MAP_TILE_UPSTREAM set this site fetches tiles from
# there and serves them from a cache (/tiles/, web/tiles.py), so the upstream sees only this
# server. Neither set in production: no tiles, and maps draw the zones on a plain ground.
# Development uses OpenStreetMap's public tiles unless told otherwise.
OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
MAP_TILE_UPSTREAM = env_str("MAP_TILE_UPSTREAM", "")
TILE_PROXY_URL = "/tiles/{z}/{x}/{y}.png"
MAP_TILE_URL = env_str("MAP_TILE_URL", TILE_PROXY_URL if MAP_TILE_UPSTREAM
                       else "" if PRODUCTION else OSM_TILE_URL)
if MAP_TILE_URL.lower() == "none":  # no tiles in development either
    MAP_TILE_URL = ""
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "© OpenStreetMap contributors")
MAP_TILE_MAX_ZOOM = env_int("MAP_TILE_MAX_ZOOM", 18)
# How long a proxied tile is served from the cache before it is fetched again.
MAP_TILE_CACHE_DAYS = env_int("MAP_TILE_CACHE_DAYS", 30)
MAP_TILE_CACHE_DIR = Path(env_str("MAP_TILE_CACHE_DIR", str(VAR_DIR / "tiles")))
# Tiles one address may fetch through the proxy per minute (a map view needs 20 to 40).
MAP_TILES_PER_MINUTE = env_int("MAP_TILES_PER_MINUTE", 600)
if not 0 <= MAP_TILE_MAX_ZOOM <= 22:
    raise ImproperlyConfigured("MAP_TILE_MAX_ZOOM must be between 0 and 22")
MAP_CENTER = (34.05, -118.25)

# Retention (days): a job enforces each rule. Each app registers its rules with
# rapidresponse.jobs; `manage.py enforce_retention --list` lists them.
RETENTION_REPORT_DETAILS_DAYS = env_int("RETENTION_REPORT_DETAILS_DAYS", 30)
RETENTION_INCIDENT_DAYS = env_int("RETENTION_INCIDENT_DAYS", 365)
RETENTION_DELIVERY_DAYS = env_int("RETENTION_DELIVERY_DAYS", 90)
RETENTION_CONSOLE_MESSAGE_DAYS = env_int("RETENTION_CONSOLE_MESSAGE_DAYS", 30)
RETENTION_UNCONFIRMED_MEMBER_HOURS = env_int("RETENTION_UNCONFIRMED_MEMBER_HOURS", 24)
RETENTION_OPTED_OUT_DAYS = env_int("RETENTION_OPTED_OUT_DAYS", 730)
RETENTION_AUDIT_DAYS = env_int("RETENTION_AUDIT_DAYS", 365)
RETENTION_INCIDENT_DETAILS_DAYS = env_int("RETENTION_INCIDENT_DETAILS_DAYS", 30)
RETENTION_FORMER_STAFF_DAYS = env_int("RETENTION_FORMER_STAFF_DAYS", 90)
RETENTION_SHIFT_DAYS = env_int("RETENTION_SHIFT_DAYS", 90)
RETENTION_DISPATCH_DAYS = env_int("RETENTION_DISPATCH_DAYS", 90)
RETENTION_EVIDENCE_DAYS = env_int("RETENTION_EVIDENCE_DAYS", 90)
RETENTION_RELEASED_EVIDENCE_DAYS = env_int("RETENTION_RELEASED_EVIDENCE_DAYS", 30)
RETENTION_SUPPORT_CASE_DAYS = env_int("RETENTION_SUPPORT_CASE_DAYS", 90)
RETENTION_VOICEMAIL_DAYS = env_int("RETENTION_VOICEMAIL_DAYS", 30)
RETENTION_ROUTING_DAYS = env_int("RETENTION_ROUTING_DAYS", 30)
RETENTION_PLAN_VERSIONS_DAYS = env_int("RETENTION_PLAN_VERSIONS_DAYS", 365)
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {
        "rapidresponse": {"level": env_str("LOG_LEVEL", "INFO")},
        # Their request lines carry provider URLs, and a Twilio look-up's URL names a phone
        # number: never below WARNING, whatever LOG_LEVEL says.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
