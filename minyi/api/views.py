"""The token pages (接口令牌): administrators issue a token for a role and unit, see it
once, read each token's call log, and revoke it. Tokens out of the administrator's
scope are 404, as everything else."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from minyi.api.forms import TokenForm
from minyi.api.models import ApiCall, ApiToken
from minyi.api.tokens import (
    can_manage_tokens,
    issued_with,
    token_issue,
    token_revoke,
    tokens_for,
    with_scope,
)
from minyi.core import once
from minyi.people.scope_labels import scope_label

CALLS_SHOWN = 50


def _require_manager(request: HttpRequest) -> None:
    if not can_manage_tokens(request.user):
        raise Http404


def token_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    tokens = list(
        with_scope(tokens_for(request.user))
        .select_related("created_by")
        .order_by("revoked_at", "-created_at", "-pk")
    )
    for token in tokens:
        token.scope = scope_label(token.user)
    return render(request, "api/token_list.html", {"tokens": tokens, "title": "接口令牌"})


# The new token's secret, kept in the session from the issue post until the page after
# the redirect shows it (post/redirect/get, as the progress-code slip): a reload of that
# page re-sends nothing, and the secret is gone from the session once shown.
ISSUED_KEY = "apitokens.issued"


def token_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    if request.method == "POST":
        form = TokenForm(request.POST, user=request.user)
        if form.is_valid():
            key = form.posted_key
            try:
                token, secret = token_issue(
                    issuer=request.user,
                    name=form.cleaned_data["name"],
                    account=form.account(),
                    submission_key=key,
                )
            except IntegrityError:
                # Rolled back whole, its account included: the form sent twice.
                earlier = issued_with(key)
                if earlier is None:
                    raise
                return _issued_already(request, form, earlier)
            request.session[ISSUED_KEY] = {"token": token.pk, "secret": secret}
            return redirect("apitokens:issued", pk=token.pk)
        return render(
            request, "api/token_form.html", {"form": form, "title": "签发接口令牌"}, status=400
        )
    form = TokenForm(user=request.user)
    return render(request, "api/token_form.html", {"form": form, "title": "签发接口令牌"})


def _issued_already(request: HttpRequest, form: TokenForm, earlier: ApiToken) -> HttpResponse:
    """A double click or a resend: the first post's page, where its secret is shown (the
    session is not touched here, so that the first post's secret stays in it). A key
    that issued someone else's token is refused as an expired page, nothing of it shown."""
    if earlier.created_by_id == request.user.pk:
        return redirect("apitokens:issued", pk=earlier.pk)
    form.refresh_key()
    form.add_error(None, once.REUSED)
    return render(
        request, "api/token_form.html", {"form": form, "title": "签发接口令牌"}, status=409
    )


def token_issued(request: HttpRequest, pk: int) -> HttpResponse:
    """The secret, once: taken out of the session as it is shown. Reloaded (or opened
    after a double click whose first answer showed it), the page says it was shown."""
    token = _token(request, pk)
    issued = request.session.get(ISSUED_KEY) or {}
    secret = None
    if issued.get("token") == token.pk:
        secret = issued["secret"]
        del request.session[ISSUED_KEY]
    response = render(
        request,
        "api/token_issued.html",
        {"token": token, "secret": secret, "title": "令牌已签发"},
    )
    # The secret must not stay in a cache or the browser's history.
    response["Cache-Control"] = "no-store"
    return response


def _token(request: HttpRequest, pk: int) -> ApiToken:
    _require_manager(request)
    return get_object_or_404(
        with_scope(tokens_for(request.user)).select_related("created_by"), pk=pk
    )


def token_detail(request: HttpRequest, pk: int) -> HttpResponse:
    token = _token(request, pk)
    calls = list(ApiCall.objects.filter(token=token).order_by("-at", "-pk")[:CALLS_SHOWN])
    context = {
        "token": token,
        "token_scope": scope_label(token.user),
        "calls": calls,
        "title": f"接口令牌：{token.name}",
    }
    return render(request, "api/token_detail.html", context)


@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = _token(request, pk)
    if token_revoke(token=token):
        messages.success(request, f"令牌“{token.name}”已吊销，立即失效。")
    else:
        messages.info(request, "该令牌已吊销。")
    return redirect("apitokens:detail", pk=token.pk)
