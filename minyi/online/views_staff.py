"""The staff side of following a case online: a liaison, representative or department
gives the reporter of a case registered at the studio a progress code on a slip, so
that they can follow it from home like a resident who sent it online (journeys 4 and 7).

Logged-in pages, reached from the case page; the case is read through `for_user` and the
rule is `access.may_give_progress_code`."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from minyi.cases import access
from minyi.cases.models import Case
from minyi.online import qr, services

# The code is shown once, on the page after the POST, then forgotten.
SLIP_KEY = "progress_slip"


def _case(request: HttpRequest, pk: int) -> Case:
    qs = Case.objects.for_user(request.user).select_related(
        "studio__unit__street", "holder_department__unit", "handling_unit"
    )
    return access.fetched_in_scope(get_object_or_404(qs, pk=pk), request.user)


@require_POST
def progress_code_give(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    if not access.may_give_progress_code(request.user, case):
        raise Http404
    try:
        code = services.progress_code_issue(case=case, actor=request.user)
    except services.CannotFollow as exc:
        messages.error(request, exc.messages[0])
        return redirect(case.get_absolute_url())
    request.session[SLIP_KEY] = {"case": case.pk, "code": code}
    return redirect("cases:progress_slip", pk=case.pk)


def progress_slip(request: HttpRequest, pk: int) -> HttpResponse:
    """The slip to print or copy for the reporter: number, code, where to type them."""
    case = _case(request, pk)
    if not access.may_give_progress_code(request.user, case):
        raise Http404
    slip = request.session.get(SLIP_KEY) or {}
    code = None
    if slip.get("case") == case.pk:
        code = slip["code"]
        del request.session[SLIP_KEY]
    context = {
        "case": case,
        "code": code,
        "lookup_url": request.build_absolute_uri(reverse("online:lookup")),
        "lookup_qr": qr.qr_data_uri(qr.lookup_address(request, case.number)),
        "qr_alt": qr.QR_ALT,
        "sms_url": request.build_absolute_uri(reverse("online:code_request")),
        "sms_follow": services.sms_follow_possible(case),
    }
    response = render(request, "online/progress_slip.html", context)
    # The code must not stay in a cache or the browser's history.
    response["Cache-Control"] = "no-store"
    return response
