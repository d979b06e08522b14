"""The online studio: public pages for residents, no login (issue 6).

Find a studio, see its representatives and coming events (booking is the duties app's
public page), send an opinion (form → check answers → confirmation with the number and
a private progress code → withdrawal for a short time), and follow it with the number
and code or a one-time code sent to the phone, then rate the answer.

Only public data is read without a code: active studios, their active representatives
as published on the plaque, published events. A case is shown only to a session that
proved the code, for a limited time that the page states and the resident can extend.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from minyi.cases.answer_headings import head_answers
from minyi.cases.attachments import discarded_unless_committed
from minyi.cases.models import Answer, Case
from minyi.cases.services import registered_with
from minyi.core import once
from minyi.core.after_response import RedirectThenRun
from minyi.core.integrity import ReferenceGone, references_checked
from minyi.core.phones import display_phone
from minyi.duties.models import Event, EventState
from minyi.duties.public_pages import render_public
from minyi.online import limits, public_cache, services
from minyi.online.forms import (
    CodeCheckForm,
    CodeRequestForm,
    FindStudioForm,
    LookupForm,
    OnlineReportForm,
    RatingForm,
    SendForm,
)
from minyi.online.models import OnlineReport, ResidentRating
from minyi.online.numbers import read_number
from minyi.online.progress import plain_state, plain_steps
from minyi.org.models import Level, OrgUnit
from minyi.people.models import Representative
from minyi.studios.models import Studio, StudioAssignment

# The same cookie as the duties booking pages, so the choice carries across.
DRAFT_KEY = "online_draft"
SENT_KEY = "online_sent"
ACCESS_KEY = "online_access"
CODE_NUMBER_KEY = "online_code_number"
ACCESS_MINUTES = 15
EVENT_WEEKS = 4
SEARCH_LIMIT = 20


def _page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """A residents' page in their frame (large text, never cached: some pages carry a
    case), mentioning one-time codes only where one can be sent."""
    context = {**(context or {}), "codes": services.codes_available()}
    return render_public(request, template, context, status=status)


# --- finding a studio --------------------------------------------------------------------


def _public_studios() -> QuerySet:
    return Studio.objects.active().select_related("unit", "unit__street", "unit__district")


@login_not_required
def find_studio(request: HttpRequest) -> HttpResponse:
    form = FindStudioForm(request.GET or None)
    results: list[Studio] | None = None
    query = ""
    if form.is_valid() and form.cleaned_data["q"].strip():
        query = form.cleaned_data["q"].strip()
        q = Q()
        for word in query.split()[:4]:
            # A community with no studio of its own (CM 7) is served by its street's.
            without_studio = (
                OrgUnit.objects.filter(level=Level.COMMUNITY)
                .filter(Q(name__icontains=word) | Q(short_name__icontains=word))
                .exclude(pk__in=Studio.objects.active().values("unit_id"))
                .values("street_id")
            )
            q &= (
                Q(unit__street_id__in=without_studio)
                | Q(name__icontains=word)
                | Q(address__icontains=word)
                | Q(unit__name__icontains=word)
                | Q(unit__short_name__icontains=word)
                | Q(unit__street__name__icontains=word)
                | Q(unit__street__short_name__icontains=word)
                | Q(unit__district__name__icontains=word)
            )
        results = list(_public_studios().filter(q).order_by("name", "pk")[:SEARCH_LIMIT])
    return _page(
        request,
        "online/find.html",
        {"form": form, "results": results, "query": query, "limit": SEARCH_LIMIT},
        status=400 if form.errors else 200,
    )


def _representatives(studio: Studio) -> QuerySet:
    active = StudioAssignment.objects.filter(studio=studio, active=True).values("representative_id")
    return Representative.objects.filter(pk__in=active, active=True).order_by("name", "pk")


@login_not_required
def studio_page(request: HttpRequest, pk: int) -> HttpResponse:
    # The content is the same for every resident: rendered once and cached for a short
    # time, until a write to what it shows (minyi.online.public_cache).
    key = public_cache.key("studio", pk)
    page = cache.get(key)
    if page is None:
        studio = get_object_or_404(_public_studios(), pk=pk)
        page = {"studio_name": studio.name, "content": _studio_content(studio)}
        cache.set(key, page, public_cache.SECONDS)
    return _page(
        request,
        "online/studio.html",
        # Our own rendering of public data, escaped when it was rendered.
        {"studio_name": page["studio_name"], "content": mark_safe(page["content"])},  # noqa: S308
    )


def _studio_content(studio: Studio) -> str:
    now = timezone.now()
    events = list(
        Event.objects.filter(
            studio=studio,
            state=EventState.PUBLISHED,
            starts_at__gte=now,
            starts_at__lt=now + timedelta(weeks=EVENT_WEEKS),
        )
        .prefetch_related(
            Prefetch("representatives", queryset=Representative.objects.order_by("name"))
        )
        .with_places_left()
        .order_by("starts_at", "pk")[:50]
    )
    return render_to_string(
        "online/_studio_content.html",
        {
            "studio": studio,
            "representatives": list(_representatives(studio)),
            "events": events,
            "weeks": EVENT_WEEKS,
        },
    )


@login_not_required
def representative_photo(request: HttpRequest, pk: int) -> FileResponse:
    """A photo as published on a studio's plaque: only of active representatives
    working at an active studio."""
    working = StudioAssignment.objects.filter(active=True, studio__closed_at__isnull=True).values(
        "representative_id"
    )
    rep = get_object_or_404(Representative.objects.filter(pk__in=working, active=True), pk=pk)
    if not rep.photo:
        raise Http404
    try:
        handle = rep.photo.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle)
    response["Cache-Control"] = "public, max-age=86400"
    return response


# --- sending an opinion -----------------------------------------------------------------


@login_not_required
def report_form(request: HttpRequest, pk: int) -> HttpResponse:
    studio = get_object_or_404(_public_studios(), pk=pk)
    reps = _representatives(studio)
    if not reps.exists():
        return _page(request, "online/report_form.html", {"studio": studio, "form": None})
    draft = request.session.get(DRAFT_KEY) or {}
    if request.method == "POST":
        form = OnlineReportForm(request.POST, representatives=reps)
        if form.is_bot:
            # Nothing is kept; a bot learns nothing it could tune against.
            return _page(request, "online/report_form.html", {"studio": studio, "form": form})
        if form.is_valid():
            # The draft's one-time key goes with it to the case (minyi.core.once): two
            # posts of 发送 that both read the draft make one case.
            request.session[DRAFT_KEY] = {
                "studio": studio.pk,
                "data": form.draft(),
                "key": str(once.new_key()),
            }
            return redirect("online:report_check", pk=studio.pk)
        return _page(
            request, "online/report_form.html", {"studio": studio, "form": form}, status=400
        )
    initial = draft.get("data") if draft.get("studio") == studio.pk else None
    form = OnlineReportForm(initial=initial, representatives=reps)
    return _page(request, "online/report_form.html", {"studio": studio, "form": form})


def _draft_for(request: HttpRequest, studio: Studio) -> dict[str, Any] | None:
    draft = request.session.get(DRAFT_KEY) or {}
    return draft if draft.get("studio") == studio.pk else None


def _draft_key(request: HttpRequest, draft: dict[str, Any]) -> UUID:
    """The draft's one-time key. A draft made before drafts had keys (a session from
    before the deploy, its check page perhaps open since) has none: its key is derived
    from the session and the draft, so that every post of 发送 reading that draft, two
    racing ones included, carries the same key and makes one case. Random, it would
    differ per post; written back, the losing post would save its copy of the session
    (the draft still in it) over the one the winner saved. docs/decisions.md."""
    key = once.parse_key(draft.get("key"))
    session = request.session.session_key
    if key is None and session:
        key = once.derived_key(session, json.dumps(draft, sort_keys=True, ensure_ascii=False))
    return key or once.new_key()


@login_not_required
def report_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Check your answers, attach material, consent, send."""
    studio = get_object_or_404(_public_studios(), pk=pk)
    draft = _draft_for(request, studio)
    data = draft.get("data") if draft is not None else None
    if draft is None or data is None:
        if (request.session.get(SENT_KEY) or {}).get("studio") == studio.pk:
            # Sent already: a double click on 发送, whose first answer the browser
            # dropped. The confirmation (number, code) rather than an empty form that
            # invites sending the opinion again.
            return redirect("online:report_done")
        return redirect("online:report_form", pk=studio.pk)
    reps = _representatives(studio)
    representative = reps.filter(pk=data["representative"]).first()
    if representative is None:
        return redirect("online:report_form", pk=studio.pk)
    context: dict[str, Any] = {
        "studio": studio,
        "data": data,
        "representative": representative,
        # The draft keeps the stored form (+8613800001234); the resident reads it as
        # they wrote it.
        "phone": display_phone(data["reporter_phone"]),
        "home_phone": display_phone(data.get("reporter_home_phone", "")),
    }
    if request.method != "POST":
        return _page(request, "online/report_check.html", {**context, "form": SendForm()})
    form = SendForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, "online/report_check.html", {**context, "form": form}, status=400)
    from minyi.online.codes import phone_key

    hit = limits.limited(request, group="submit", rate=limits.SUBMIT_PER_CLIENT) or limits.limited(
        request,
        group="submit-phone",
        rate=limits.SUBMIT_PER_PHONE,
        key=phone_key(data["reporter_phone"]),
    )
    if hit:
        return hit
    case_data = {k: v for k, v in data.items() if k != "representative"}
    key = _draft_key(request, draft)
    try:
        with discarded_unless_committed(), references_checked(REPORT_GONE):
            report, code = services.online_report_submit(
                studio=studio,
                representative=representative,
                data=case_data,
                attachments=form.cleaned_data["attachments"],
                submission_key=key,
            )
    except ReferenceGone as exc:
        return _report_again(request, studio, data, exc, uploads=bool(request.FILES))
    except IntegrityError:
        # Rolled back whole. Another post of this draft (whose key only this session
        # holds) sent it while this one was on its way: that post's answer, the
        # confirmation, is the one to show; this one leaves the session as it is.
        if registered_with(key) is None:
            raise
        return redirect("online:report_done")
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return _page(request, "online/report_check.html", {**context, "form": form}, status=400)
    del request.session[DRAFT_KEY]
    # The code is shown once, on the next page, and then forgotten.
    request.session[SENT_KEY] = {"report": report.pk, "code": code, "studio": studio.pk}
    _grant(request, report)
    return redirect("online:report_done")


REPORT_GONE = (
    "您选择的党代表刚刚不在本工作室接待了（或工作室信息有变动），这次没有提交成功。"
    "您填写的内容都还在，请重新选择后再提交。"
)


def _report_again(
    request: HttpRequest, studio: Studio, data: dict[str, Any], gone: ReferenceGone, uploads: bool
) -> HttpResponse:
    """The first step again, filled in from the draft (which stays in the session) and
    checked against the representatives as they are now, so that the choice that is
    gone is marked. A browser cannot keep the chosen files: they are asked for again."""
    reps = _representatives(studio)
    form = OnlineReportForm(data, representatives=reps) if reps.exists() else None
    if form is not None:
        form.is_valid()
        form.add_error(None, gone.message + ("照片或材料需要重新选择。" if uploads else ""))
    context = {"studio": studio, "form": form}
    return _page(request, "online/report_form.html", context, status=409)


@login_not_required
def report_done(request: HttpRequest) -> HttpResponse:
    sent = request.session.get(SENT_KEY) or {}
    report = (
        OnlineReport.objects.select_related("case", "case__studio")
        .filter(pk=sent.get("report") or 0)
        .first()
    )
    if report is None:
        return redirect("online:find")
    # The code is shown on this one visit and then removed from the session too.
    code = sent.pop("code", None)
    request.session[SENT_KEY] = sent
    return _page(
        request,
        "online/report_done.html",
        {
            "report": report,
            "case": report.case,
            "code": code,
            "can_withdraw": services.can_withdraw(report),
        },
    )


@login_not_required
@require_POST
def report_withdraw(request: HttpRequest) -> HttpResponse:
    report = _granted_report(request)
    if report is None:
        return _page(request, "online/expired.html", status=403)
    try:
        services.online_report_withdraw(report=report)
    except ValidationError as exc:
        context = {**_progress_context(request, report), "error": exc.messages[0]}
        return _page(request, "online/progress.html", context, status=400)
    request.session.pop(SENT_KEY, None)
    return redirect("online:progress")


# --- following progress ------------------------------------------------------------------


def _grant(request: HttpRequest, report: OnlineReport) -> None:
    """This browser may see this case for ACCESS_MINUTES (the page says so)."""
    request.session.cycle_key()
    request.session[ACCESS_KEY] = {
        "report": report.pk,
        "until": int(time.time()) + ACCESS_MINUTES * 60,
    }


def _granted_report(request: HttpRequest) -> OnlineReport | None:
    access = request.session.get(ACCESS_KEY) or {}
    if not access or access.get("until", 0) < time.time():
        return None
    return (
        OnlineReport.objects.select_related("case", "case__studio", "case__handling_unit")
        .filter(pk=access.get("report") or 0)
        .first()
    )


@login_not_required
def lookup(request: HttpRequest) -> HttpResponse:
    """Number + progress code. Wrong code and unknown number give the same answer, and
    every try counts against the client's limit."""
    if request.method != "POST":
        # The slip's and the form's QR code opens this page with the number filled in
        # (minyi.online.qr); the resident types the code.
        number = request.GET.get("number", "")[:140]
        return _page(
            request, "online/lookup.html", {"form": LookupForm(initial={"number": number})}
        )
    hit = limits.limited(request, group="lookup", rate=limits.LOOKUP_PER_CLIENT)
    if hit:
        return hit
    form = LookupForm(request.POST)
    if not form.is_valid():
        return _page(request, "online/lookup.html", {"form": form}, status=400)
    report = services.find_report(form.cleaned_data["number"], form.cleaned_data["code"])
    if report is None:
        number = form.cleaned_data["number"]
        form = LookupForm(initial={"number": number})
        context = {"form": form, "not_found": NOT_FOUND, "hint": _digits_only_hint(number)}
        return _page(request, "online/lookup.html", context, status=400)
    _grant(request, report)
    return redirect("online:progress")


NOT_FOUND = "编号或查询码不对，请核对后再试。忘记查询码可以用手机验证码查询，或致电工作室。"
DIGITS_ONLY = (
    "您只填了编号里的数字。别的社区也可能有同样的数字，那样按数字查不到，"
    "请把编号前面的街道和社区名称一起填上，例如：沙头角街道沙头角社区2026001。"
)


def _digits_only_hint(number: str) -> str:
    # Read from what was typed, never from what exists: the same for every such number.
    return DIGITS_ONLY if read_number(number).digits_only else ""


@login_not_required
def code_request(request: HttpRequest) -> HttpResponse:
    """Ask for a one-time code: sent only when number and phone match. The answer is the
    same whatever happened: no match, a code sent, or a code the gateway did not take
    (a different answer would tell a client that the pair matched; docs/decisions.md).
    The code page's wording covers a code that does not come."""
    if not services.codes_available():
        # No gateway, and codes never go to the log in production: say so plainly
        # rather than take a number and phone for a message that cannot come.
        status = 200 if request.method != "POST" else 503
        return _page(request, "online/code_request.html", {"unavailable": True}, status=status)
    if request.method != "POST":
        return _page(request, "online/code_request.html", {"form": CodeRequestForm()})
    hit = limits.limited(request, group="code-send", rate=limits.CODE_SEND_PER_CLIENT)
    if hit:
        return hit
    form = CodeRequestForm(request.POST)
    if not form.is_valid():
        return _page(request, "online/code_request.html", {"form": form}, status=400)
    from minyi.online.codes import phone_key

    hit = limits.limited(
        request,
        group="code-send-phone",
        rate=limits.CODE_SEND_PER_PHONE,
        key=phone_key(form.cleaned_data["phone"]),
    )
    if hit:
        return hit
    number, phone = form.cleaned_data["number"], form.cleaned_data["phone"]
    request.session[CODE_NUMBER_KEY] = "".join(number.split())[:140]
    # The code is written and sent once the client has this answer: sent in the request,
    # a match would answer as late as the gateway is slow and a miss at once, and that
    # difference would confirm the pair to a client timing its probes. A failed send is
    # recorded and logged there, never told to this client.
    return RedirectThenRun(
        reverse("online:code_check"),
        lambda: services.one_time_code_send(number=number, phone_e164=phone),
    )


@login_not_required
def code_check(request: HttpRequest) -> HttpResponse:
    number = request.session.get(CODE_NUMBER_KEY)
    if not number:
        return redirect("online:code_request")
    context = {"minutes": services.ONE_TIME_CODE_MINUTES, "hint": _digits_only_hint(number)}
    if request.method != "POST":
        form = CodeCheckForm()
        return _page(request, "online/code_check.html", {**context, "form": form})
    hit = limits.limited(request, group="code-check", rate=limits.CODE_CHECK_PER_CLIENT)
    if hit:
        return hit
    form = CodeCheckForm(request.POST)
    if form.is_valid():
        report = services.one_time_code_check(number=number, code=form.cleaned_data["code"])
        if report is not None:
            request.session.pop(CODE_NUMBER_KEY, None)
            _grant(request, report)
            return redirect("online:progress")
        form.add_error(None, "验证码不对或已过期。请重新获取验证码，或用查询码查询。")
    return _page(request, "online/code_check.html", {**context, "form": form}, status=400)


def _progress_context(request: HttpRequest, report: OnlineReport) -> dict[str, Any]:
    case: Case = report.case
    answers = list(Answer.objects.filter(case=case).select_related("handling_unit").order_by("pk"))
    ratings = {r.answer_id: r for r in ResidentRating.objects.filter(case=case).order_by("pk")}
    for answer in answers:
        # For the template only: the resident's own rating of this answer, if any.
        answer.resident_rating_given = ratings.get(answer.pk)  # type: ignore[attr-defined]
    head_answers(answers)
    access = request.session.get(ACCESS_KEY) or {}
    until = datetime.fromtimestamp(access.get("until", 0), tz=timezone.get_current_timezone())
    rateable = services.rateable_answer(case)
    return {
        "report": report,
        "case": case,
        "now": plain_state(case, rateable=bool(rateable)),
        "steps": plain_steps(case),
        "answers": answers,
        "rateable": rateable,
        "rating_form": RatingForm(),
        "can_withdraw": services.can_withdraw(report),
        "until": until,
        "minutes": ACCESS_MINUTES,
    }


@login_not_required
def progress(request: HttpRequest) -> HttpResponse:
    report = _granted_report(request)
    if report is None:
        return _page(request, "online/expired.html", status=403)
    return _page(request, "online/progress.html", _progress_context(request, report))


@login_not_required
@require_POST
def progress_extend(request: HttpRequest) -> HttpResponse:
    """The page says when it stops showing the case; this gives it ACCESS_MINUTES more,
    as long as it has not run out yet."""
    report = _granted_report(request)
    if report is None:
        return _page(request, "online/expired.html", status=403)
    _grant(request, report)
    return redirect("online:progress")


@login_not_required
@require_POST
def progress_rate(request: HttpRequest) -> HttpResponse:
    report = _granted_report(request)
    if report is None:
        return _page(request, "online/expired.html", status=403)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.resident_rate(
                report=report,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            return redirect("online:progress")
    report.case.refresh_from_db()
    context = {**_progress_context(request, report), "rating_form": form}
    return _page(request, "online/progress.html", context, status=400)


@login_not_required
@require_POST
def progress_leave(request: HttpRequest) -> HttpResponse:
    """Leave: this browser forgets the case (a shared phone)."""
    request.session.pop(ACCESS_KEY, None)
    request.session.pop(SENT_KEY, None)
    return redirect("online:lookup")
