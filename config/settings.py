"""Settings for minyi. Every deployment value comes from the environment (.env.example)."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("MINYI_DATA_DIR", str(BASE_DIR / "data")))

DEBUG = env_bool("DEBUG", False)
# True only under config.settings_production: commands that write accounts with published
# passwords (load_demo, generate_load_data) refuse to run there.
MINYI_PRODUCTION = False
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not env_bool("MINYI_ALLOW_DEV_KEY", True):
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    # Development and tests only; production sets SECRET_KEY (check --deploy flags it).
    SECRET_KEY = "django-insecure-minyi-development-only-key-change-me-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "django_ratelimit",
    "minyi.core",
    "minyi.org",
    "minyi.people",
    "minyi.studios",
    "minyi.workdays",
    "minyi.cases",
    "minyi.duties",
    "minyi.documents",
    "minyi.api",
    "minyi.evaluation",
    "minyi.online",
    "minyi.dashboards",
    "minyi.audit",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "minyi.twofactor",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Inside WhiteNoise (static files keep their long cache); every other answer is
    # private, no-store unless its view says otherwise (minyi.core.security).
    "minyi.core.security.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Right after authentication: gives request.user is_verified() (second factor).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # After authentication: audit rows read the actor from request.user.
    "minyi.audit.trail.AuditContextMiddleware",
    # A choice deleted by someone else before the commit: a 409 page, not a 500.
    "minyi.core.integrity.ReferenceGoneMiddleware",
    # After OTPMiddleware: holds a password-only login at the TOTP step (minyi/twofactor).
    "minyi.twofactor.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A GET to a step that only takes a POST: a Chinese page with a way back, not a blank
    # 405 (after logging in again, `?next=` leads there).
    "minyi.core.methods.MethodNotAllowedPageMiddleware",
    "minyi.core.security.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "minyi" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "minyi.core.context_processors.navigation",
                "minyi.duties.context_processors.notifications",
            ],
        },
    },
]

# Caches back the rate limits (django-ratelimit), which need atomic increments shared by
# every worker: Redis when REDIS_URL is set (production requires it), otherwise one
# process's memory, which is right for `make run` and the tests.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "minyi.core.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "minyi",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions: with Redis, read from the cache and written through to the database
# (cached_db), which saves the session query every request pays; the database stays the
# record, so logout, deactivation (minyi.core.security.end_sessions clears both) and a
# Redis restart all behave as with database sessions. Without Redis, the database alone.
SESSION_ENGINE = "django.contrib.sessions.backends." + ("cached_db" if REDIS_URL else "db")
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "minyi.core.views.rate_limited"
# locmem is not shared across processes; production refuses it (settings_production).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# SQLite is the embedded default (a file under the git-ignored data folder, WAL mode);
# PostgreSQL in production through DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL", "")
SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of
    # failing with "database is locked" half-way through a transaction.
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    # synchronous=FULL: a commit is on disk before the case number is shown, so neither
    # a killed process nor a power cut can lose an acknowledged registration (NORMAL in
    # WAL mode survives a killed process but may lose the last commits on power loss).
    # docs/operations.md has the measurements behind this choice.
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
}
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 0))
    }
    # DATABASE_URL=sqlite:////path/db.sqlite3 names another SQLite file (a restore target,
    # a crash test's own database) with the same durability options.
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
    else:
        # No JIT for our connections: at 500,000 cases PostgreSQL spent about 190 ms
        # compiling each of the city dashboard's GROUP BYs, more than running them, and
        # the short indexed queries of every other page never gain from it
        # (docs/performance.md). `?options=...` in DATABASE_URL still overrides this.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            # Django takes a Path here; the stubs' TypedDict says str.
            "NAME": DATA_DIR / "minyi.sqlite3",  # type: ignore[typeddict-item]
            "OPTIONS": dict(SQLITE_OPTIONS),
            # Tests run on a file, not in memory: concurrency tests need several
            # connections to one database. One file per process, so parallel runs
            # do not trample each other.
            "TEST": {"NAME": str(DATA_DIR / f"test_minyi_{os.getpid()}.sqlite3")},
        }
    }
    DATA_DIR.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "people.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Absolute lifetime: 8 hours from login, never extended by activity (SessionTimeoutMiddleware
# enforces it too, since saving the idle stamp would otherwise push the cookie's expiry on).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_SAVE_EVERY_REQUEST = False
# Idle timeout: logged out after this long without a request (minyi.core.security).
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# HTTPS: config/settings_production.py turns the redirect on by default; here it stays off so
# that tests and the local demo (plain http) work. HSTS is only ever sent over HTTPS.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Behind a TLS-terminating proxy: SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https
# (only when that proxy always sets or strips the header).
_proxy_ssl = env_list("SECURE_PROXY_SSL_HEADER", [])
if _proxy_ssl:
    if len(_proxy_ssl) != 2:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must be 'HEADER,value'")
    SECURE_PROXY_SSL_HEADER = (_proxy_ssl[0], _proxy_ssl[1])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Content-Security-Policy (Django's built-in CSP): no inline script or style anywhere; the
# nonce is there for a script tag that cannot be a file (base.html carries it on its tags).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Login lockout (django-axes): after AXES_FAILURE_LIMIT failures, the account is locked
# whatever the address (guessing one password from many addresses), and the address is locked
# whatever the account (trying one password on many accounts), each for AXES_COOLOFF_TIME.
AUTHENTICATION_BACKENDS = [
    "minyi.core.security.LockoutBackend",
    "minyi.core.security.AccountBackend",
]
AXES_ENABLED = True
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "minyi.core.security.client_ip"
AXES_VERBOSE = False
# How many reverse proxies append to X-Forwarded-For in front of the application (0: none,
# the client address is REMOTE_ADDR and X-Forwarded-For is ignored as forgeable).
MINYI_TRUSTED_PROXY_COUNT = env_int("MINYI_TRUSTED_PROXY_COUNT", 0)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "minyi" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "minyi" / "static"]

# Uploaded photos live outside the code tree, in the data folder, and are served by a view.
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"
MAX_PHOTO_BYTES = env_int("MAX_PHOTO_BYTES", 2 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
WHITENOISE_USE_FINDERS = True
# How a reporter's answer copy and one-time codes leave the system: "console" (the log,
# for development) or "http" (the SMS gateway); minyi.cases.apps refuses any other name.
MINYI_REPORTER_CHANNEL = env_str("MINYI_REPORTER_CHANNEL", "console")
# One-time codes through the console channel are written to the log, code and all: how a
# developer reads them. Production never does (settings_production): without a gateway
# the online studio offers no codes, and residents use their progress code.
MINYI_CONSOLE_CODES = env_bool("MINYI_CONSOLE_CODES", True)
# The "http" channel (minyi.core.sms, docs/operations.md "Text messages"): the deployment's
# SMS gateway, the secret that signs each request, and how long to wait for it in seconds.
MINYI_SMS_URL = env_str("MINYI_SMS_URL", "")
MINYI_SMS_SECRET = env_str("MINYI_SMS_SECRET", "")
MINYI_SMS_CONNECT_TIMEOUT = env_float("MINYI_SMS_CONNECT_TIMEOUT", 3.0)
MINYI_SMS_READ_TIMEOUT = env_float("MINYI_SMS_READ_TIMEOUT", 5.0)
# Plain http only to a gateway on this machine (an adapter on 127.0.0.1); https otherwise.
MINYI_SMS_ALLOW_LOOPBACK_HTTP = env_bool("MINYI_SMS_ALLOW_LOOPBACK_HTTP", False)
MAX_ATTACHMENT_BYTES = env_int("MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)
# "Half a day" (SM 9, SM 10) in hours: the shortest session that counts.
MINYI_HALF_DAY_HOURS = env_int("MINYI_HALF_DAY_HOURS", 3)
# Open API: calls per token (or per client address without a token), django-ratelimit syntax.
MINYI_API_RATE = env_str("MINYI_API_RATE", "600/m")

# Personal data at rest (minyi.core.crypto, docs/personal-data.md). MINYI_FIELD_KEY encrypts
# phones, addresses and ID-like numbers; MINYI_FIELD_KEY_FALLBACKS (comma-separated) are old
# keys that still decrypt during a rotation; MINYI_LOOKUP_KEY keys the digests used to find
# rows by phone. Development and tests fall back to fixed keys; production refuses to start
# without real ones (settings_production).
# The development keys are in this public repository: production refuses them
# (settings_production), so data encrypted under them is readable by anyone.
DEVELOPMENT_FIELD_KEY = "bWlueWktZGV2ZWxvcG1lbnQtb25seS1maWVsZC1rZXk="
DEVELOPMENT_LOOKUP_KEY = "minyi-development-only-lookup-key"
MINYI_FIELD_KEY = env_str("MINYI_FIELD_KEY", "") or DEVELOPMENT_FIELD_KEY
MINYI_FIELD_KEY_FALLBACKS = env_list("MINYI_FIELD_KEY_FALLBACKS", [])
MINYI_LOOKUP_KEY = env_str("MINYI_LOOKUP_KEY", "") or DEVELOPMENT_LOOKUP_KEY
# Retention (docs/personal-data.md): a closed case's personal data is anonymised this many
# years after closing by `manage.py anonymise_closed_cases`.
MINYI_RETENTION_YEARS = env_int("MINYI_RETENTION_YEARS", 5)
# Audit trail (minyi/audit, docs/audit.md): rows are kept at least this many days; the database
# refuses to delete rows younger than six months whatever this says.
MINYI_AUDIT_RETENTION_DAYS = env_int("MINYI_AUDIT_RETENTION_DAYS", 365)
# Excel files (minyi/documents, docs/personal-data.md): `manage.py purge_document_files` deletes
# an export's file this many days after it was made, and an uploaded sheet's file once it is
# imported or this many days after upload; the rows stay as the record. At least one day.
MINYI_EXPORT_FILE_DAYS = env_int("MINYI_EXPORT_FILE_DAYS", 7)
MINYI_IMPORT_FILE_DAYS = env_int("MINYI_IMPORT_FILE_DAYS", 7)
# Sheets with more rows than this are checked and committed as a background job the page
# polls (`manage.py run_imports` takes over what a restart left behind), not in the request.
MINYI_IMPORT_SYNC_ROWS = env_int("MINYI_IMPORT_SYNC_ROWS", 2000)

# Second factor (minyi/twofactor): the name authenticator apps show next to the code.
OTP_TOTP_ISSUER = "民意 党代表工作室"
