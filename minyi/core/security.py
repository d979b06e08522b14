"""Login protection: the real client address, the lockout backend, idle and absolute session limits.

The lockout itself is django-axes (settings.AXES_*); this module supplies what axes needs from us.
"""

import ipaddress
import time

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in
from django.core.validators import MaxLengthValidator
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from minyi.core import account_cache

LAST_ACTIVITY_KEY = "_minyi_last_activity"
LOGIN_AT_KEY = "_minyi_login_at"
# Write the activity stamp at most this often, so that not every request rewrites the session.
ACTIVITY_WRITE_INTERVAL = 60


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The address of the client that sent the request.

    Without trusted proxies (MINYI_TRUSTED_PROXY_COUNT = 0, the default) only the TCP peer
    (REMOTE_ADDR) counts: X-Forwarded-For is written by the client and is ignored, so a
    password guesser cannot pick a fresh address for each attempt.

    With N trusted proxies in front, each appends the address it received the request from,
    so the client is the N-th entry from the right of X-Forwarded-For. Entries further left
    were written by the client and are never used. A missing or too-short header falls back to
    REMOTE_ADDR (a misconfigured proxy then makes everyone share one address: deploy notes).
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "") or "")
    proxies = getattr(settings, "MINYI_TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in header.split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote
    return _valid_ip(hops[-proxies]) or remote


class LockoutBackend(AxesStandaloneBackend):
    """Axes' lockout check for every login that comes through a request.

    Authentication without a request (Client.login in tests, management code) is not reachable
    from the network and cannot be attributed to an address, so it is passed on to the model
    backend instead of raising AxesBackendRequestParameterRequired.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


UserModel = get_user_model()


class LoginForm(AuthenticationForm):
    """Django's login form, with the username's length checked before the password is
    tried. Django sets the limit only on the input's maxlength, so a longer name went to
    authenticate(), and the failed attempt axes records has room for 255 characters:
    PostgreSQL refused the row and the login page answered 500. No account has a longer
    name, so refusing it loses no attempt worth counting."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length or 150))


class AccountBackend(ModelBackend):
    """The model backend, reading the signed-in account with its organisation unit in
    the same query: every staff page's scope (minyi.people.scopes) needs the unit, and
    fetching it on its own was a second query on every request. The row is kept in the
    shared cache between requests (minyi.core.account_cache)."""

    def get_user(self, user_id):
        def load():
            # The unit's secretary's phone is for the unit's own form, never the scope.
            return (
                UserModel._default_manager.select_related("unit")
                .defer("unit__party_secretary_phone")
                .filter(pk=user_id)
                .first()
            )

        user = account_cache.fetched(user_id, load)
        if user is None:
            return None
        return user if self.user_can_authenticate(user) else None


@receiver(user_logged_in)
def _stamp_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[LOGIN_AT_KEY] = now
        request.session[LAST_ACTIVITY_KEY] = now


def end_sessions(user) -> int:
    """Delete every open session of the account. Database sessions keep the user id inside the
    encoded data, so the live ones are decoded (a staff system has few)."""
    from django.contrib.sessions.models import Session

    if settings.SESSION_ENGINE not in {
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    }:
        return 0
    live = Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500)
    keys = [s.session_key for s in live if s.get_decoded().get("_auth_user_id") == str(user.pk)]
    if keys:
        Session.objects.filter(session_key__in=keys).delete()
        if settings.SESSION_ENGINE.endswith("cached_db"):
            from django.contrib.sessions.backends.cached_db import KEY_PREFIX
            from django.core.cache import caches

            caches[settings.SESSION_CACHE_ALIAS].delete_many([KEY_PREFIX + k for k in keys])
    return len(keys)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def _deactivated_account_loses_its_sessions(sender, instance, created, **kwargs):
    # Deactivating an account ends its sessions at once (ModelBackend would also refuse the
    # inactive user on the next request; deleting the sessions leaves nothing to refuse).
    if not created and not instance.is_active:
        end_sessions(instance)


class NoStoreMiddleware:
    """Nothing a page shows may stay in the browser's cache: studios' computers are
    shared, and a page kept there (a case with its reporter, a resident's own report)
    would come back with Back or from the disk cache after its user logged out. Every
    response that has not said how it may be cached gets `private, no-store`; a view
    whose answer may be kept says so itself (a representative's photo). Static files
    never come this far: WhiteNoise answers them first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response


class SessionTimeoutMiddleware:
    """Logs out after SESSION_IDLE_SECONDS without a request, and after SESSION_COOKIE_AGE since
    login whatever the activity (the session is saved when the activity stamp changes, which
    would otherwise push the cookie's expiry forward)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            login_at = session.get(LOGIN_AT_KEY)
            last = session.get(LAST_ACTIVITY_KEY)
            idle_limit = settings.SESSION_IDLE_SECONDS
            if login_at is None or last is None:
                session[LOGIN_AT_KEY] = login_at or now
                session[LAST_ACTIVITY_KEY] = now
            elif now - last > idle_limit or now - login_at > settings.SESSION_COOKIE_AGE:
                logout(request)
                messages.info(
                    request,
                    "您已长时间未操作或登录时间已满，为保护信息安全已自动退出，请重新登录。",
                )
            elif now - last >= min(ACTIVITY_WRITE_INTERVAL, idle_limit):
                session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)
