"""Holds a logged-in account at the second-factor step until it is done.

Must come after django_otp's OTPMiddleware (which gives request.user is_verified()), itself
after AuthenticationMiddleware; see the order in config/settings.py.

The check runs once per login: when nothing is pending, the session remembers it, so ordinary
requests pay no query. A policy change therefore applies from each account's next login."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from minyi.twofactor.policy import pending_step, step_at_login

CLEARED_KEY = "_minyi_second_factor_cleared"


@receiver(user_logged_in)
def _new_login(sender, request, user, **kwargs):
    # Decide at login, while the session is being written anyway, so that the first request
    # after it costs nothing extra. (The session keeps its data across login: decide afresh.)
    if request is not None and hasattr(request, "session"):
        if step_at_login(user) is None:
            request.session[CLEARED_KEY] = True
        else:
            request.session.pop(CLEARED_KEY, None)


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.session.get(CLEARED_KEY):
            step = pending_step(user)
            if step is None:
                request.session[CLEARED_KEY] = True
            else:
                response = self._hold(request, step)
                if response is not None:
                    return response
        return self.get_response(request)

    def _hold(self, request, step):
        target = reverse(f"twofactor:{step}")
        path = request.path
        if path in {target, reverse("logout")} or path.startswith(f"/{settings.STATIC_URL}"):
            return None
        query = ""
        full = request.get_full_path()
        if request.method == "GET" and url_has_allowed_host_and_scheme(
            full, allowed_hosts={request.get_host()}
        ):
            query = "?" + urlencode({"next": full})
        return redirect(target + query)
