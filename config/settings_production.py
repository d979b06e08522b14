"""Production settings: config.settings with the HTTPS defaults switched on and no fallbacks.

DJANGO_SETTINGS_MODULE=config.settings_production. Every value still comes from the
environment (.env.example); this module only refuses to start without the ones production
cannot do without, and makes the secure choice the default.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int
from config.settings import *  # noqa: F403

MINYI_PRODUCTION = True

if DEBUG:  # noqa: F405
    raise ImproperlyConfigured("DEBUG must be off in production")
# The development key is long enough but public; Django's own check (security.W009) only
# warns of it under `check --deploy`, which a server's start does not run.
if (
    not os.environ.get("SECRET_KEY")
    or len(os.environ["SECRET_KEY"]) < 50
    or os.environ["SECRET_KEY"].startswith("django-insecure")
):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value (at least 50 characters), e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(64))'"
    )
if not os.environ.get("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the host(s) the system is served as")

if not os.environ.get("REDIS_URL"):
    raise ImproperlyConfigured(
        "REDIS_URL must point at Redis: rate limits need a cache shared by every worker"
    )

# Personal data is encrypted under MINYI_FIELD_KEY and found through digests keyed by
# MINYI_LOOKUP_KEY (minyi.core.crypto); the development fallbacks are public, and so is
# a development key set on purpose (copied from the repository into a deployment's
# environment). The one exception is the load benchmark (bench/load.py, bench/cpu.py),
# which serves data the generator wrote under the development keys on a private
# machine and says so with MINYI_BENCHMARK_PUBLIC_KEYS=1. A development key among
# MINYI_FIELD_KEY_FALLBACKS is allowed: that is how such data is re-encrypted under a
# real key (`reencrypt_personal_data`, docs/operations.md).
_PUBLIC_KEYS = {
    "MINYI_FIELD_KEY": DEVELOPMENT_FIELD_KEY,  # noqa: F405
    "MINYI_LOOKUP_KEY": DEVELOPMENT_LOOKUP_KEY,  # noqa: F405
}
for _name, _public in _PUBLIC_KEYS.items():
    if not os.environ.get(_name):
        raise ImproperlyConfigured(
            f"{_name} must be set: personal data cannot be encrypted with the development key "
            "(python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        )
    if os.environ[_name] == _public and not env_bool("MINYI_BENCHMARK_PUBLIC_KEYS", False):
        raise ImproperlyConfigured(
            f"{_name} is the development key published in the repository: set a key of "
            "this deployment's own"
        )

# A one-time code in the log would let whoever reads the logs into a resident's case
# (minyi.online.services.codes_available): never in production.
MINYI_CONSOLE_CODES = False

# Answer copies and one-time codes sent as text messages need the gateway and the secret
# that signs for it (minyi.core.sms); without them every message would fail at send time.
if MINYI_REPORTER_CHANNEL == "http":  # noqa: F405
    from minyi.core.sms import gateway_url_problem

    if not MINYI_SMS_URL or not MINYI_SMS_SECRET:  # noqa: F405
        raise ImproperlyConfigured(
            "MINYI_REPORTER_CHANNEL=http needs MINYI_SMS_URL (the SMS gateway's https address) "
            "and MINYI_SMS_SECRET (the key that signs each request, shared with the gateway)"
        )
    if len(MINYI_SMS_SECRET) < 32:  # noqa: F405
        raise ImproperlyConfigured(
            "MINYI_SMS_SECRET must be a long random value (at least 32 characters), e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if gateway_url_problem(MINYI_SMS_URL, allow_http=MINYI_SMS_ALLOW_LOOPBACK_HTTP):  # noqa: F405
        raise ImproperlyConfigured(
            "MINYI_SMS_URL must be an https address (plain http only to a gateway on "
            "127.0.0.1 with MINYI_SMS_ALLOW_LOOPBACK_HTTP=1)"
        )

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# HSTS preload (security.W021) commits the whole registrable domain, all its subdomains, to
# HTTPS in every browser, and takes months to undo; the system is served on a subdomain of a
# government domain it does not own, so preloading is the domain owner's decision, not ours.
# SECURE_HSTS_PRELOAD=1 opts in where the owner agrees.
if not SECURE_HSTS_PRELOAD:  # noqa: F405
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "security.W021"]

# Persistent database connections unless CONN_MAX_AGE says otherwise: a new PostgreSQL
# connection per request costs a server process and an authentication, milliseconds that
# every page would pay (bench/load.py). The health check replaces a connection the server
# closed (a restart) instead of failing the request that finds it.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
