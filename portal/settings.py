"""Settings for the SecureBank portal, read from the environment.

With nothing set, the portal runs on embedded defaults (SQLite under var/, a local-memory cache, Celery
over a folder broker) so that `make run` works on a bare machine. With DATABASE_URL and REDIS_URL set it
runs on PostgreSQL and Redis, the production stack.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from portal import logging as portal_logging

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")

# Debug mode only when asked for (`make run` sets DEBUG=1): a host with a typo in its environment fails to
# start (no SECRET_KEY, no ALLOWED_HOSTS) rather than running in debug mode on the repo's key.
DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-never-used-with-debug-off"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    if not DEBUG:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
    ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Where links in emails point (the password reset's), e.g. https://bank.example. Unset: the scheme and host
# of the request that asked (get_host() keeps to ALLOWED_HOSTS).
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
if SITE_URL:
    _site = urlsplit(SITE_URL)
    if _site.scheme not in {"http", "https"} or not _site.hostname or _site.query or _site.fragment:
        raise ImproperlyConfigured("SITE_URL must look like https://bank.example")

# The audit chain's HMAC key (portal/audit/chain.py): kept out of the database, so that whoever can write the
# audit table cannot recompute a chain that verifies. Losing it means the chain cannot be verified.
AUDIT_HMAC_KEY = env.str("AUDIT_HMAC_KEY", default="")
if not AUDIT_HMAC_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY must be set when DEBUG is off.")
    AUDIT_HMAC_KEY = "dev-only-audit-key-never-used-with-debug-off"
elif len(AUDIT_HMAC_KEY) < 32 and not DEBUG:
    raise ImproperlyConfigured("AUDIT_HMAC_KEY must be at least 32 characters (e.g. 32 random bytes, hex).")
# Where each sealing run appends the chain's head (seq, hash, time): outside the database; ship it off-host.
AUDIT_ANCHOR_FILE = Path(env.str("AUDIT_ANCHOR_FILE", default=str(VAR_DIR / "audit-anchors.jsonl")))

INSTALLED_APPS = [
    "accounts.apps.AdminConfig",  # Django's admin on a site that requires staff two-factor auth
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "portal",
    "portal.public.apps.PublicConfig",
    "accounts",
    "transactions",
    "transactions.insights.apps.InsightsConfig",
    "transactions.statements.apps.StatementsConfig",
]
# Demo and scale data (portal/seeding: seed_demo, seed_scale) exist only where asked for: with DEBUG, or with
# SEEDING_ENABLED=1 (`make test`, `make bench`). Production leaves the app, its commands and its table out.
SEEDING_ENABLED = env.bool("SEEDING_ENABLED", default=DEBUG)
if SEEDING_ENABLED:
    INSTALLED_APPS.append("portal.seeding")

MIDDLEWARE = [
    # The public pages (rates, FAQ) answered from their cached copies before anything else runs: a copy
    # served costs about a trivial Django view (make bench). It gives the answer a request id and counts it
    # (portal_public_page_hits_total); anything else goes down the stack.
    "portal.public.page_cache.PublicPageMiddleware",
    "portal.middleware.RequestMiddleware",  # the request id covers every other layer's log lines
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",  # below WhiteNoise: static files need no policy
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle and absolute session timeouts (accounts/sessions.py); below Messages so that it can say why.
    "accounts.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.shell_urls",
                "portal.context_processors.move_money",
            ],
            "builtins": ["portal.templatetags.money"],
        },
    }
]

if DATABASE_URL:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    # Persistent connections (checked before reuse): one per request cost the dashboard 3.5x its throughput.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database host that drops packets must fail a request (and /ready/) in seconds, not hang it.
    db_options = DATABASES["default"].setdefault("OPTIONS", {})
    db_options["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", default=5)
    if env.bool("DATABASE_POOL", default=False):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        db_options["pool"] = {"min_size": 2, "max_size": 8}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "portal.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

# The runtime role (portal/dbroles.py) that `manage.py db_roles` grants to: the user the portal and the
# workers connect as. manage.py keeps the runtime DATABASE_URL in DATABASE_RUNTIME_URL while an owner command
# runs on DATABASE_OWNER_URL.
_runtime_url = env.str("DATABASE_RUNTIME_URL", default="") or DATABASE_URL
DATABASE_RUNTIME_ROLE = env.str(
    "DATABASE_RUNTIME_ROLE",
    default=environ.Env.db_url_config(_runtime_url).get("USER", "") if _runtime_url else "",
)

if REDIS_URL:
    # The cache, the sessions and the Celery broker each have their own key space (and, with SESSION_REDIS_URL
    # and CELERY_BROKER_URL, their own Redis database or server): clearing the cache deletes only the
    # cache's keys (portal/redis_cache.py; Django's own clear() is FLUSHDB), never a session or queued work.
    _cache_prefix = env.str("CACHE_KEY_PREFIX", default="portal")
    _redis_options = {"socket_connect_timeout": 2, "socket_timeout": 2}
    CACHES = {
        "default": {
            "BACKEND": "portal.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": _cache_prefix,
            "OPTIONS": _redis_options,
        },
        "sessions": {
            "BACKEND": "portal.redis_cache.RedisCache",
            "LOCATION": env.str("SESSION_REDIS_URL", default=REDIS_URL),
            "KEY_PREFIX": f"{_cache_prefix}-sessions",
            "OPTIONS": _redis_options,
        },
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    SESSION_CACHE_ALIAS = "sessions"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# A forgotten-password link works for 30 minutes, once (accounts/password_reset.py).
PASSWORD_RESET_TIMEOUT = 30 * 60

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["email", "full_name"]},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    # Django's 20,000 common passwords plus zxcvbn's 30,000 leaked ones, shipped in accounts/data/.
    {"NAME": "accounts.passwords.BreachedPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Lockout (accounts/lockout.py): 5 failed sign-ins for one email from one address lock that pair for 30
# minutes (django-axes; attempts while locked are refused without being counted). An email failing 5 times
# from anywhere is slowed down (a growing wait between attempts, at most LOGIN_SLOWDOWN_MAX_SECONDS), never
# locked; a device that signed in to the account before is exempt from both. The form says so
# (accounts.views.LoginView): axes' middleware, which would only replace that answer, is left out, so no
# other page pays for it (hence axes.W002).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: a locked email or address never reaches a password check
    "accounts.backends.UserBackend",  # Django's ModelBackend with a leaner per-request user lookup
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # the pair: never the email alone, or the address
AXES_WHITELIST_CALLABLE = "accounts.lockout.pair_lock_exempt"  # the owner's own devices, no address
LOGIN_SLOWDOWN_AFTER = env.int("LOGIN_SLOWDOWN_AFTER", default=5)
LOGIN_SLOWDOWN_MAX_SECONDS = env.int("LOGIN_SLOWDOWN_MAX_SECONDS", default=60)
AXES_USERNAME_FORM_FIELD = "username"  # the login form's field (it carries the email)
AXES_USERNAME_CALLABLE = "accounts.lockout.attempted_email"
AXES_CLIENT_IP_CALLABLE = "portal.client_address.client_ip"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False  # a success does not wipe the failures an attacker made from the same pair
AXES_DISABLE_ACCESS_LOG = True  # sign-ins and sign-outs are in the audit trail already
AXES_ENABLE_ADMIN = False  # accounts/admin.py registers a read-only, audited admin for lockouts
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
# models.W047: SQLite (the embedded default, development only) cannot build the rate sheet's unique constraint
# with NULL tenors treated as equal; PostgreSQL does, and the admin's form checks it on both.
SILENCED_SYSTEM_CHECKS = ["axes.W002", "models.W047"]

# Rate limits (portal/ratelimit.py): scope -> (requests, seconds), each overridable as
# RATE_LIMIT_<SCOPE>="requests/seconds", e.g. RATE_LIMIT_LOGIN_IP=30/60.
_RATE_LIMIT_DEFAULTS = {
    "login_ip": "20/60",  # sign-in POSTs from one address (an office behind one NAT signs in at 9:00)
    "login_email": "10/60",  # sign-in POSTs for one email, known or not
    "otp": "5/60",  # one-time code entries per user
    "transfer_confirm": "10/60",  # transfer confirmations per user
    "password_change": "5/60",  # password change POSTs per user (each checks the old password)
    "password_reset": "3/900",  # forgotten-password requests per email, known or not (no mail bombing)
    "password_reset_ip": "10/900",  # forgotten-password requests from one address
    # New-payee forms checked per user: each may look up whether a SecureBank account number exists.
    "payee_check": "20/3600",
    # History exports per user (transactions/history/export_views.py): each reads a whole history.
    "history_export": "30/3600",
    # Statements asked for per user (transactions/statements/views.py): each new one is a worker's job.
    "statement_request": "30/3600",
    # Verifications per address (/statements/verify/, public): an oracle of checksums, and each upload is
    # hashed whole.
    "statement_verify": "30/600",
    # Receipt PDFs per user (transactions/statements/receipt_views.py): each is rendered while they wait.
    "receipt": "60/600",
    # Statement retries per user: each is a worker's job again.
    "statement_retry": "20/3600",
}


def _rate(scope: str, default: str) -> tuple[int, int]:
    value = env.str(f"RATE_LIMIT_{scope.upper()}", default=default)
    try:
        requests, seconds = (int(part) for part in value.split("/"))
    except ValueError:
        raise ImproperlyConfigured(f"RATE_LIMIT_{scope.upper()} must look like 10/60") from None
    if requests < 1 or seconds < 1:
        raise ImproperlyConfigured(f"RATE_LIMIT_{scope.upper()} must be positive")
    return requests, seconds


RATE_LIMITS = {scope: _rate(scope, default) for scope, default in _RATE_LIMIT_DEFAULTS.items()}
# When the cache cannot be reached, these scopes answer 503 (a secret is checked or an email sent: failing
# open would mean unlimited guesses); the others (transfer_confirm) let the request through. The sign-in's
# per-email slowdown (accounts/lockout.py) fails closed too.
RATE_LIMIT_FAIL_CLOSED = frozenset(
    {"login_ip", "login_email", "otp", "password_change", "password_reset", "password_reset_ip"}
)
RATE_LIMIT_CACHE = "default"

LANGUAGE_CODE = "en-IN"
# Django has no formats for en-IN (its "en" writes "Dec. 1, 2026, 8:53 p.m."): ours say "1 Dec 2026, 8:53 PM".
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = "Asia/Kolkata"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Served by WhiteNoise from STATIC_ROOT (`manage.py collectstatic`): names with a hash of the content
    # (so cached for a year, immutable), each beside its .gz and .br. Tests and `make run` read the files
    # where they lie (WHITENOISE_USE_FINDERS), by their plain names.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # Account statements' files (transactions/statements), never served as static or media files: only the
    # owner's signed, expiring link streams one. On the filesystem under var/ by default; an S3-compatible
    # store is a setting away (STATEMENTS_STORAGE_BACKEND=storages.backends.s3.S3Storage and its options as
    # JSON in STATEMENTS_STORAGE_OPTIONS, with django-storages installed).
    "statements": {
        "BACKEND": env.str(
            "STATEMENTS_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json(
            "STATEMENTS_STORAGE_OPTIONS", default={"location": str(VAR_DIR / "statements"), "base_url": None}
        ),
    },
}

# The public pages' cache (portal/public/page_cache.py): a worker re-reads the pages' versions at least this
# often (seconds) even if no change was announced; it keeps this many pages in memory; Redis keeps a copy
# this long (seconds) after it was made (an edit makes it unreachable at once: this only collects garbage).
PUBLIC_PAGE_RECHECK_SECONDS = env.float("PUBLIC_PAGE_RECHECK_SECONDS", default=2.0)
PUBLIC_PAGE_MEMORY_ENTRIES = env.int("PUBLIC_PAGE_MEMORY_ENTRIES", default=128)
PUBLIC_PAGE_REDIS_SECONDS = env.int("PUBLIC_PAGE_REDIS_SECONDS", default=24 * 60 * 60)
# The release the copies were drawn by (e.g. the commit); empty: a digest of the static files' manifest, the
# templates and portal/public's code, so that a deploy never serves a page naming another release's files.
PUBLIC_PAGE_RELEASE = env.str("PUBLIC_PAGE_RELEASE", default="")

# Transport security. HTTPS defaults to on whenever DEBUG is off; tests and a plain-http bench turn it off.
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env.bool("BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The client's address behind proxies (portal/client_address.py). Nothing trusted by default: REMOTE_ADDR is
# the client and forwarding headers are ignored.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])  # networks or addresses: 10.0.0.0/8,192.0.2.7
CLIENT_IP_HEADER = "HTTP_" + env.str("CLIENT_IP_HEADER", default="X-Forwarded-For").upper().replace("-", "_")
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")
for _network in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_network!r} is not an address or network") from None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Sessions end after 15 minutes without a request, and 12 hours after sign-in whatever happens, enforced on
# the server by accounts.middleware.SessionTimeoutMiddleware. The last-activity time is rewritten at most
# once a SESSION_ACTIVITY_RESOLUTION (so the idle window is 14 to 15 minutes after the last request); the
# pages warn SESSION_IDLE_WARNING seconds before the end (static/js/portal.js). Seconds, overridable by env.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=15 * 60)

# History reads whose cost grows with what they match (a filter's totals, the balance on a day and why) stop
# after this long in PostgreSQL, with a message to narrow them; a download that its client stops reading
# gives up its transaction after this many idle seconds (transactions/history/).
HISTORY_READ_TIMEOUT_MS = env.int("HISTORY_READ_TIMEOUT_MS", default=3000)
HISTORY_EXPORT_IDLE_TIMEOUT = env.int("HISTORY_EXPORT_IDLE_TIMEOUT", default=60)
SESSION_IDLE_WARNING = env.int("SESSION_IDLE_WARNING", default=60)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=12 * 60 * 60)
SESSION_ACTIVITY_RESOLUTION = env.int("SESSION_ACTIVITY_RESOLUTION", default=60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
# A long-lived signed random id per browser: a sign-in from a browser without it is "a new device" (an email).
DEVICE_COOKIE_NAME = "sb_device"
DEVICE_COOKIE_AGE = 400 * 24 * 60 * 60  # the most a browser keeps a cookie (Chrome caps at 400 days)
CSRF_COOKIE_HTTPONLY = True  # the CSRF token reaches HTMX through <body hx-headers>, never the cookie
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Probes from the load balancer and a scraper on the host (portal/metrics.py) speak plain http.
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^ready/$", r"^metrics$"]
X_FRAME_OPTIONS = "DENY"
# django-csp: scripts and styles come only from our own files (no inline code, no eval); htmx is told not to
# inject its indicator <style> (base.html's htmx-config).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Celery: Redis when configured, otherwise kombu's filesystem transport in var/ (no server needed).
if REDIS_URL:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TIMEZONE = TIME_ZONE  # the beat's crontab entries are hours in India
# Two queues, both consumed by a worker started without -Q: statements (a month's worth of them on the 1st)
# wait in their own, so that they never stand in front of the minute-by-minute work in the default one; a
# deploy can give them workers of their own (`celery worker -Q statements`).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (
    Queue("celery", Exchange("celery"), routing_key="celery"),
    Queue("statements", Exchange("statements"), routing_key="statements"),
)
CELERY_TASK_ROUTES = {"transactions.statements.tasks.statement_generate_task": {"queue": "statements"}}
# Celery reads these on every message it sends, looking in Django's settings before its own defaults: one
# that Django lacks costs a failed attribute look-up per place (about 20 µs where a present one takes 5).
# Their defaults, spelled out, took a quarter off the monthly fan-out's 100,000 messages
# (bench/statement_fanout.py).
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_SEND_SENT_EVENT = False
CELERY_TASK_REPR_MAXLEVELS = 3
CELERY_BROKER_POOL_ACQUIRE_TIMEOUT = None
# The worker logs through LOGGING below (JSON lines with the request id that sent the task), not Celery's:
# portal.celery.keep_django_logging stops Celery from configuring logging at all.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE: dict = {
    # Chain the audit events of the last minute (portal/audit/chain.py); a late run is dropped, the next
    # catches up.
    "audit-seal": {"task": "portal.tasks.audit_seal_task", "schedule": 60.0, "options": {"expires": 55}},
    # Posting alerts (transactions/alerts.py, DISPATCH_SECONDS): hand the alerts that are due to send tasks.
    "posting-alerts-dispatch": {
        "task": "transactions.tasks.posting_alerts_dispatch_task",
        "schedule": 5.0,
        "options": {"expires": 4},
    },
    # Forget sign-ins older than 180 days (the security page's registry; the audit trail keeps them).
    "session-registry-prune": {
        "task": "accounts.tasks.session_registry_prune_task",
        "schedule": 24 * 60 * 60.0,
        "options": {"expires": 60 * 60},
    },
    # Run the scheduled transfers that are due today (transactions/scheduled/services.py). Each occurrence
    # runs once however many of these overlap; a late run is dropped, the next one does the work.
    "scheduled-transfers-run": {
        "task": "transactions.tasks.scheduled_transfers_run_task",
        "schedule": 5 * 60.0,
        "options": {"expires": 4 * 60},
    },
    # Catch the insights' daily sums (and the customers' categorisation rules) up with the ledger
    # (transactions/insights/rollup.py); the insights page also catches up the accounts it shows.
    "insights-rollups-catch-up": {
        "task": "transactions.insights.tasks.rollups_catch_up_task",
        "schedule": 2 * 60.0,
        "options": {"expires": 110},
    },
    # Statements (transactions/statements/tasks.py). The watchdog: statements whose worker died go back to
    # the queue, queued ones whose task never left have it sent again.
    "statements-watchdog": {
        "task": "transactions.statements.tasks.statements_watchdog_task",
        "schedule": 2 * 60.0,
        "options": {"expires": 110},
    },
    # Last month's statement of every customer account, on the 1st at 01:30 in India. No expiry: a late run
    # still makes the month (and a second run makes nothing twice).
    "statements-monthly": {
        "task": "transactions.statements.tasks.statements_monthly_task",
        "schedule": crontab(minute=30, hour=1, day_of_month=1),
    },
    # Delete the files of statements past STATEMENT_RETENTION_DAYS, nightly at 03:15 in India.
    "statement-files-remove": {
        "task": "transactions.statements.tasks.statement_files_remove_task",
        "schedule": crontab(minute=15, hour=3),
        "options": {"expires": 6 * 60 * 60},
    },
}

# Account statements (transactions/statements). A statement running without a sign of life for this long
# (its task reports progress every few thousand rows) is taken back by the watchdog: its worker died.
STATEMENT_STALE_SECONDS = env.int("STATEMENT_STALE_SECONDS", default=10 * 60)
# Times a statement goes back to the queue by itself after an interruption (its worker lost, the database or
# the storage away), before it is failed for the customer to retry; and the first retry's delay (doubled at
# each retry, at most ten minutes).
STATEMENT_AUTO_RETRIES = env.int("STATEMENT_AUTO_RETRIES", default=3)
STATEMENT_RETRY_DELAY_SECONDS = env.float("STATEMENT_RETRY_DELAY_SECONDS", default=30.0)
# A queued statement whose task was sent this long ago and never taken is sent again (the broker lost it).
# Longer than the statements' queue ever takes to drain: on the 1st it holds a month's worth.
STATEMENT_RESEND_SECONDS = env.int("STATEMENT_RESEND_SECONDS", default=6 * 60 * 60)
# Files of statements older than this many days are deleted (the rows, and their checksums, stay).
STATEMENT_RETENTION_DAYS = env.int("STATEMENT_RETENTION_DAYS", default=400)
# A download link lives this long (seconds).
STATEMENT_LINK_SECONDS = env.int("STATEMENT_LINK_SECONDS", default=15 * 60)

# Email: console on embedded defaults; EMAIL_URL (smtp+tls://user:pass@host:587, filemail:///path) otherwise.
# Tests use Django's locmem outbox whatever this says.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# Seconds before a mail server that does not answer fails the send (Django's default waits for ever: a hung
# server would hold a worker, and the posting alerts' sweep, until the task's hard time limit).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SecureBank <no-reply@securebank.example>")
BANK_PHONE = env.str("BANK_PHONE", default="1800 000 0000")

# Ledger limits (paise).
TRANSFER_MAX_PAISE = env.int("TRANSFER_MAX_PAISE", default=10_00_00_000 * 100)  # ₹10 crore
# A transfer above this asks for a fresh one-time code (accounts/stepup.py).
TRANSFER_STEP_UP_PAISE = env.int("TRANSFER_STEP_UP_PAISE", default=50_000_00)  # ₹50,000
# Money in and out of the bank is spread over this many settlement accounts, one chosen per customer account
# (accounts/internal.py), so that external postings of different customers do not queue on one row lock.
# Raise it freely (`manage.py migrate` creates the new shards); lowering it leaves the shards beyond it as
# they are: they keep their balances and count in the bank's settlement position, they are no longer chosen.
SETTLEMENT_SHARDS = env.int("SETTLEMENT_SHARDS", default=16)
if not 1 <= SETTLEMENT_SHARDS <= 99_999:
    raise ImproperlyConfigured("SETTLEMENT_SHARDS must be between 1 and 99999.")

# Payees (accounts.models.Payee). SecureBank's own IFSC: a payee with it is an account in our ledger.
BANK_IFSC = "SECB0000001"
# A new payee can receive nothing for PAYEE_COOLING_OFF seconds after it was added, then at most
# PAYEE_NEW_DAILY_PAISE a day for PAYEE_NEW_PERIOD seconds more (RBI practice for new beneficiaries).
PAYEE_COOLING_OFF = env.int("PAYEE_COOLING_OFF", default=24 * 60 * 60)
PAYEE_NEW_PERIOD = env.int("PAYEE_NEW_PERIOD", default=4 * 24 * 60 * 60)
PAYEE_NEW_DAILY_PAISE = env.int("PAYEE_NEW_DAILY_PAISE", default=1_00_000_00)  # ₹1,00,000
# The bank-wide daily limit of one customer's transfers to others, unless staff set another for them.
DAILY_TRANSFER_LIMIT_PAISE = env.int("DAILY_TRANSFER_LIMIT_PAISE", default=5_00_000_00)  # ₹5,00,000
# The bank-wide limit of one transfer to others, unless staff set another for the customer: ₹2,00,000, two
# fifths of the daily limit, so that a thief with a customer's session and code must send at least three
# transfers to empty a day's limit, each an alert the customer can answer with "This wasn't me", while rent,
# school fees and most purchases still go in one payment (larger ones: staff raise it for the customer).
PER_TRANSFER_LIMIT_PAISE = env.int("PER_TRANSFER_LIMIT_PAISE", default=2_00_000_00)  # ₹2,00,000
# A customer's own lower limits: lowering applies at once, raising (or removing one) this many seconds later,
# so that someone who took over the session cannot lift a limit and use it at once (transactions/limits.py).
TRANSFER_LIMIT_RAISE_DELAY = env.int("TRANSFER_LIMIT_RAISE_DELAY", default=12 * 60 * 60)

# Two-factor auth (django-otp, accounts/otp.py): the name authenticator apps show beside the code.
OTP_TOTP_ISSUER = "SecureBank"
# The key that encrypts authenticator seeds and keys the backup codes' hashes (accounts/otp_secrets.py):
# 32 bytes, urlsafe base64; several, comma-separated, to rotate (the first is current). Kept out of the
# database on purpose. Required when DEBUG is off; with DEBUG on a dev-only key stands in.
OTP_ENCRYPTION_KEY = env.str("OTP_ENCRYPTION_KEY", default="")
if not OTP_ENCRYPTION_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("OTP_ENCRYPTION_KEY must be set when DEBUG is off.")
    OTP_ENCRYPTION_KEY = (
        "ZGV2LW9ubHktb3RwLWtleS1uZXZlci1pbi1wcm9kISE="  # dev only: "dev-only-otp-key-never-in-prod!!"
    )

# One JSON object per line, each with the request id (portal/logging.py): structlog's ProcessorFormatter
# renders every record, from `logging` (Django, Celery, axes, our getLogger calls) and structlog alike.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "structlog.stdlib.ProcessorFormatter",
            "foreign_pre_chain": portal_logging.FOREIGN_PRE_CHAIN,
            "processors": portal_logging.PROCESSORS,
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
portal_logging.configure_structlog()
