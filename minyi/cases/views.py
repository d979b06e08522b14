"""The case pages: the list, registration, the case with its timeline and its steps,
the reporter's full details (logged), and the tracking ledger (annex 2).

Every case is fetched through `Case.objects.for_user`, so "not yours" is a 404. Each
step is a thin view over one service in `minyi.cases.services`: the step must be one
the user may take (`access.permitted_actions`); a step the user's role could take but
the case's state does not allow is explained in Chinese (400); a step taken on a stale
page is refused (409) and nothing is saved.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from minyi.cases import access, forms, services
from minyi.cases.answer_headings import head_answers
from minyi.cases.attachments import can_download, discarded_unless_committed
from minyi.cases.deadlines import EXTENDED_DAYS
from minyi.cases.ledger_rows import page_related
from minyi.cases.ledger_rows import row_html as ledger_row_html
from minyi.cases.models import (
    RATING_LABELS,
    Answer,
    AnswerTimeliness,
    Case,
    CaseStep,
    Evaluation,
    FeedbackCopy,
    Outcome,
)
from minyi.cases.rows import row_html
from minyi.cases.states import (
    ESCALATION,
    STATE_LABELS,
    TRANSITIONS,
    Action,
    CaseState,
    HolderLevel,
    next_state,
)
from minyi.cases.states import TransitionNotAllowed as NotAllowed
from minyi.cases.summary import (
    UNIT_WORK,
    due_soon_until,
    unit_of,
    unit_work_q,
)
from minyi.cases.timeline import timeline
from minyi.core import once
from minyi.core.forms import add_errors
from minyi.core.integrity import ReferenceGone, references_checked
from minyi.core.links import pk_urls
from minyi.core.phones import display_phone
from minyi.core.regulations import cite
from minyi.core.requests import AuthenticatedHttpRequest
from minyi.core.views_base import ListPage
from minyi.org.models import Level, OrgUnit
from minyi.people.models import Role
from minyi.workdays.calendar import WorkCalendar, workdays_between


def case_related(qs: QuerySet) -> QuerySet:
    """The API's case, with its related rows whole (the page reads less: _scoped_case)."""
    return qs.select_related(
        "studio",
        "studio__unit",
        "studio__unit__street",
        "handling_unit",
        "holder_department",
        "holder_department__unit",
    )


# Columns the list's rows never show (the content, the reporter's other
# contacts, all encrypted but the content).
# What a row of the case list page prints (with the studio's, the department's and the
# handling unit's names), and what _mark_protected reads to hide the reporter.
LIST_ROW_FIELDS = (
    "number",
    "received_on",
    "reporter_name_masked",
    "reporter_phone",
    "summary",
    "state",
    "final_rating",
    "holder_department",
    "handling_unit",
    "due_on",
    "due_provisional",
    "hide_identity_from_unit",
    "about_unit",
)

# The reporter's details that only the full view shows (case_reporter, recorded as a
# PersonalDataView): each is a token decrypted as its row is read, so the list and the
# case page leave them in the database and print the masked name kept beside the
# encrypted one (reporter_name_masked). The phone stays: both print it masked.
REPORTER_FULL_VIEW = (
    "reporter_name",
    "reporter_employer",
    "reporter_employer_address",
    "reporter_home_address",
    "reporter_home_phone",
)

NOT_IN_ROWS = ("content", *REPORTER_FULL_VIEW)


# What the case page prints of the case's related rows (names; an account is printed
# as its full name or username) and what `access` and the referral form read of them
# (the studio's street, the holding department's unit): these columns are joined in with
# all of the case's own, and nothing else of those rows. Joining them whole, some 140
# columns of nine rows, cost more to compile and to build than the database took to
# answer (issue 8). Reading another column of them costs a query of its own; the
# query-count tests in tests/cases/test_detail_queries.py catch that.
CASE_PAGE_RELATED = (
    "studio__name",
    "studio__unit__street__name",
    "holder_department__name",
    "holder_department__unit",
    "handling_unit__name",
    "about_unit__name",
    *(
        f"{account}__{name}"
        for account in ("registered_by", "representative_confirmed_by", "reporter_confirmed_by")
        for name in ("full_name", "username")
    ),
)


@cache
def _case_page_columns() -> tuple[str, ...]:
    own = tuple(
        field.name for field in Case._meta.concrete_fields if field.name not in REPORTER_FULL_VIEW
    )
    return own + CASE_PAGE_RELATED


def _scoped_case(request: HttpRequest, pk: int) -> Case:
    """The case as its page shows it: the reporter masked, so the details only the full
    view shows are neither read nor decrypted (case_reporter reads them)."""
    qs = (
        Case.objects.for_user(request.user)
        .select_related(*dict.fromkeys(name.rpartition("__")[0] for name in CASE_PAGE_RELATED))
        .only(*_case_page_columns())
    )
    return access.fetched_in_scope(get_object_or_404(qs, pk=pk), request.user)


# What a step's POST reads of the case's related rows: the holding department's unit, on
# which access.permitted_actions and the referral's choice of units decide (the street
# that rates is the case's own `street` column). The names the page prints
# (CASE_PAGE_RELATED, eight joined rows) are read only when the page is shown again,
# after a refusal; a step that succeeds redirects.
STEP_RELATED = ("holder_department__unit",)

# The case's own columns a step leaves in the database: the content and the reporter's
# and representative's contact details, seven of them encrypted. No step decides on them;
# the steps that copy them (an answer's copy to the reporter) or write rows of their own
# read the case afresh under a lock (services._begin), so a send or a referral no longer
# decrypts a resident's name, phones and addresses it never uses.
STEP_UNREAD = (*NOT_IN_ROWS, "reporter_phone", "representative_contact")


@cache
def _case_step_columns() -> tuple[str, ...]:
    own = (f.name for f in Case._meta.concrete_fields if f.name not in STEP_UNREAD)
    return (*own, *STEP_RELATED)


def _case_for_step(request: HttpRequest, pk: int) -> Case:
    qs = (
        Case.objects.for_user(request.user)
        .select_related("holder_department")
        .only(*_case_step_columns())
    )
    return access.fetched_in_scope(get_object_or_404(qs, pk=pk), request.user)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# --- list -----------------------------------------------------------------------------


def _mark_deadlines(cases: list[Case], *, unit: bool = False) -> list[Case]:
    today = services.today()
    # 即将到期 counts working days, as the start pages do (summary.DUE_SOON_WORKDAYS).
    soon = due_soon_until(today)
    for case in cases:
        # Only a case with a unit is waiting for an answer by its date.
        due = case.due_on if case.state == CaseState.WITH_UNIT else None
        overdue = due is not None and due < today
        # Attributes for the rows (rows.row_html) and the export only, as below.
        case.is_overdue = overdue  # type: ignore[attr-defined]
        case.is_due_soon = due is not None and not overdue and due <= soon  # type: ignore[attr-defined]
    return cases


def detail_links() -> Callable[[int], str]:
    """The detail page's address for any pk (links.pk_urls: reverse() costs some 60 µs,
    which was 3 ms of a page of 50 rows)."""
    return pk_urls("cases:detail")


def _mark_row_texts(cases: list[Case]) -> list[Case]:
    """What a list row prints, made once here rather than by the template per cell:
    the template's date filter (DateFormat), get_FOO_display() and {% url %} cost
    30–60 µs a cell, a third of a 50-row page's rendering. Dates are ISO (Y-m-d)."""
    link = detail_links()
    for case in cases:
        # Attributes for rows.row_html only.
        case.url = link(case.pk)  # type: ignore[attr-defined]
        case.received_text = case.received_on.isoformat()  # type: ignore[attr-defined]
        case.due_text = case.due_on.isoformat() if case.due_on else ""  # type: ignore[attr-defined]
        case.state_label = STATE_LABELS.get(case.state, case.state)  # type: ignore[attr-defined]
        case.rating_label = RATING_LABELS.get(  # type: ignore[attr-defined]
            case.final_rating, case.final_rating
        )
    return cases


def _mark_protected(user: Any, cases: list[Case]) -> None:
    """A handling unit that may not see a reporter (they asked, or the case is about
    that unit) sees not even the masked name and phone."""
    for case in cases:
        # An attribute for the list's and the ledger's rows and the exports only.
        case.reporter_hidden = (  # type: ignore[attr-defined]
            user.role == Role.HANDLING_UNIT_STAFF and not access.can_see_reporter(user, case)
        )


def dashboard_filters(qs: QuerySet, data: dict[str, Any]) -> QuerySet:
    """The filters a dashboard's numbers link to (minyi.dashboards.stats counts the same
    way): reception dates, channel, category, level reached, answers, unit."""
    if data.get("date_from"):
        qs = qs.filter(received_on__gte=data["date_from"])
    if data.get("date_to"):
        qs = qs.filter(received_on__lte=data["date_to"])
    if data.get("channel"):
        qs = qs.filter(channel=data["channel"])
    if data.get("category"):
        category = data["category"]
        qs = qs.filter(category="" if category == forms.NO_CATEGORY else category)
    if data.get("level"):
        level = data["level"]
        qs = qs.filter(holder_level="" if level == forms.LEVEL_NONE else level)
    if data.get("answer"):
        qs = qs.filter(answer_q(data["answer"]))
    if data.get("unit"):
        qs = qs.filter(data["unit"].area_q())
    return qs


def _name_filters(qs: QuerySet, user: Any, data: dict[str, Any]) -> QuerySet:
    """A large scope's searches by studio and handling-unit name: the cases of those in
    scope whose name contains the text (a sub-query over the scope's studios or units,
    not a join of every case to a name)."""
    if data.get("studio_name"):
        qs = qs.filter(studio__in=forms.studios_named(user, data["studio_name"]))
    if data.get("handling_unit_name"):
        qs = qs.filter(handling_unit__in=forms.units_named(user, data["handling_unit_name"]))
    return qs


def answer_q(kind: str) -> Any:
    """Cases by their answers: all on time, at least one late, none yet (the column
    the answer step keeps, indexed with the date of reception)."""
    return Q(
        answer_timeliness={
            forms.ANSWER_ON_TIME: AnswerTimeliness.ON_TIME,
            forms.ANSWER_LATE: AnswerTimeliness.LATE,
        }.get(kind, AnswerTimeliness.NONE)
    )


class CaseList(ListPage):
    model = Case
    filter_form = forms.CaseFilterForm
    template_name = "cases/case_list.html"
    title = "社情民意"
    # An account's: the page is not login_not_required, and the API's token sets its own
    # account (minyi.api.api) before screen_list runs this view.
    request: AuthenticatedHttpRequest

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        forms.prefetch_list_choices(request.user)
        return super().get(request)

    def base_queryset(self) -> QuerySet:
        # The row shows neither these texts nor these contacts: not reading them saves
        # five decryptions per row (minyi.core.crypto). It names the studio, the
        # department and the unit, nothing of their org units (the API's
        # case_related joins those): three joins and ~140 model rows a page fewer.
        return (
            Case.objects.for_user(self.request.user)
            .select_related("studio", "handling_unit", "holder_department")
            .defer(*NOT_IN_ROWS, "representative_contact", "handling_unit__phone")
        )

    def filter(self, qs: QuerySet, data: dict[str, Any]) -> QuerySet:
        if data.get("q"):
            qs = qs.filter(Q(number__icontains=data["q"]) | Q(summary__icontains=data["q"]))
        for name in ("state", "studio", "handling_unit"):
            if data.get(name):
                qs = qs.filter(**{name: data[name]})
        qs = _name_filters(qs, self.request.user, data)
        if data.get("year"):
            # The numbering year is the year of received_on (case_register sets both and
            # nothing changes either): as a range of received_on alone, the indexes
            # (street or district or city, state, received_on) answer the page and its
            # count by themselves. `year = …` as well made PostgreSQL visit every
            # matching row in the table: 3.2 s to count a national year's closed cases.
            year = int(data["year"])
            qs = qs.filter(received_on__gte=date(year, 1, 1), received_on__lte=date(year, 12, 31))
        if data.get("rating"):
            qs = qs.filter(final_rating=data["rating"])
        qs = dashboard_filters(qs, data)
        if data.get("held_by_me"):
            qs = qs.filter(holder_department__unit_id=self.request.user.unit_id).exclude(
                state__in=[CaseState.CLOSED, CaseState.CARRIED_FORWARD]
            )
        if data.get("to_rate"):
            # The form offers it to officials only (CaseFilterForm); one with no unit
            # rates nothing.
            rates = access.rated_by_q(self.request.user)
            qs = qs.filter(rates, state=CaseState.ANSWERED) if rates is not None else qs.none()
        today = services.today()
        if data.get("work"):
            # The form offers it to a unit's account only (CaseFilterForm).
            unit_id = unit_of(self.request.user)
            assert unit_id is not None
            qs = qs.filter(unit_work_q(data["work"], unit_id, today))
        if data.get("overdue"):
            qs = qs.filter(state=CaseState.WITH_UNIT, due_on__lt=today)
        if data.get("due_soon"):
            qs = qs.filter(
                state=CaseState.WITH_UNIT,
                due_on__gte=today,
                due_on__lte=due_soon_until(today),
            )
        return qs

    def page_rows(self, qs: QuerySet) -> QuerySet:
        # The page's row prints these columns and three names; the export and the API
        # (row_columns) keep the whole case with its studio and units. Building a case
        # of fifteen columns and no related objects, instead of a case of forty with a
        # studio, a department and a handling unit, halves the rows' share of the page.
        return (
            qs.select_related(None)
            .only(*LIST_ROW_FIELDS)
            .annotate(
                studio_name=F("studio__name"),
                holder_name=F("holder_department__name"),
                handling_unit_name=F("handling_unit__name"),
            )
        )

    def decorate(self, rows: list[Any]) -> list[Any]:
        _mark_protected(self.request.user, rows)
        unit = unit_of(self.request.user) is not None
        return _mark_row_texts(_mark_deadlines(rows, unit=unit))

    def present(self, rows: list[Any]) -> list[Any]:
        for case in rows:
            case.row_html = row_html(case)
        return rows

    def extra_context(self) -> dict[str, Any]:
        context: dict[str, Any] = {"can_register": forms.may_register(self.request.user)}
        # A unit's start page links here by its work (本单位): the heading says which.
        work = self.request.GET.get("work", "")
        if work in UNIT_WORK and unit_of(self.request.user) is not None:
            context["title"] = f"{UNIT_WORK[work]}的社情民意"
        return context


def studio_suggestions(request: HttpRequest) -> HttpResponse:
    """The <option>s of the studio-name search's type-ahead (a large scope's list and
    ledger): studios in the user's scope only."""
    names = forms.studio_suggestions(request.user, request.GET.get("studio_name", ""))
    return render(request, "cases/studio_suggestions.html", {"names": names})


def category_suggestions(request: HttpRequest) -> HttpResponse:
    """The <option>s of the category box's type-ahead (a large scope's list): the
    categories used in the user's scope only, and "未分类" when it matches."""
    uncategorised, names = forms.category_suggestions(request.user, request.GET.get("category", ""))
    return render(
        request,
        "cases/category_suggestions.html",
        {"names": names, "uncategorised": uncategorised, "no_category": forms.NO_CATEGORY},
    )


# --- registration ---------------------------------------------------------------------


REGISTRATION_GONE = (
    "所选的工作室、党代表或所反映的单位刚被删除或停用，本次登记没有保存，请重新选择后再提交。"
)


def _registration_again(request: HttpRequest, gone: ReferenceGone) -> Any:
    """The posted form once more, validated against the rows as they are now, so that
    the choice that is gone is marked at its field; what was typed stays. Uploads
    cannot be kept by a browser: the message says to choose them again."""
    form = forms.RegistrationPageForm(request.POST, request.FILES, user=request.user)
    form.is_valid()
    message = gone.message
    if request.FILES:
        message += "附件需要重新选择。"
    form.add_error(None, message)
    return form


def case_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = forms.RegistrationPageForm(request.POST, request.FILES, user=user)
    else:
        form = forms.RegistrationPageForm(user=user, studio_hint=request.GET.get("studio"))
    # The form has read the studios where the user may register (an existence query of
    # their own before): nowhere is a 404.
    if not form.studio_pks:
        raise Http404
    if request.method == "POST":
        if form.is_valid():
            key = form.posted_key
            try:
                with discarded_unless_committed(), references_checked(REGISTRATION_GONE):
                    case = services.case_register(
                        actor=user,
                        studio=form.cleaned_data["studio"],
                        representative=form.cleaned_data["representative"],
                        data=form.case_data(),
                        attachments=form.cleaned_data["attachments"],
                        submission_key=key,
                    )
            except ReferenceGone as exc:
                form = _registration_again(request, exc)
                return render(request, "cases/case_form.html", {"form": form}, status=409)
            except IntegrityError:
                # Rolled back whole, serial included. The form sent twice: the first case.
                earlier = services.registered_with(key)
                if earlier is None:
                    raise
                return _registered_already(request, form, earlier)
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, f"登记成功，编号：{case.number}")
                return redirect(case.get_absolute_url())
        return render(request, "cases/case_form.html", {"form": form}, status=400)
    if _is_htmx(request) and request.htmx.target == "representative-field":
        return render(request, "cases/case_form.html#representative_field", {"form": form})
    return render(request, "cases/case_form.html", {"form": form})


def _registered_already(
    request: AuthenticatedHttpRequest, form: forms.RegistrationPageForm, earlier: Case
) -> HttpResponse:
    """A registration whose key already registered `earlier`: a double click or a resend
    gets the first case's page and its number, nothing written. A key that registered
    someone else's case, or at another studio, is refused as an expired page, the form
    coming back with a fresh key and what was typed, and nothing of that case shown."""
    if (
        earlier.registered_by_id == request.user.pk
        and earlier.studio_id == form.cleaned_data["studio"].pk
    ):
        messages.info(request, f"这份登记已经提交过，编号 {earlier.number}，没有重复登记。")
        return redirect(earlier.get_absolute_url())
    form.refresh_key()
    form.add_error(None, once.REUSED)
    return render(request, "cases/case_form.html", {"form": form}, status=409)


# --- detail ---------------------------------------------------------------------------


STEP_GONE = "本次操作涉及的记录刚被他人删除或停用，操作没有保存，请刷新页面后再试。"


@dataclass(frozen=True)
class Step:
    """One step endpoint: its form, how the action follows from the form's data, and
    the service call."""

    form: type
    action: Callable[[dict[str, Any]], str]
    run: Callable[[Case, Any, dict[str, Any]], Any]
    done: str
    # What to say when a row the step refers to was deleted meanwhile (nothing saved).
    gone: str = STEP_GONE


def _fixed(action: str) -> Callable[[dict[str, Any]], str]:
    return lambda data: action


STEPS: dict[str, Step] = {
    "confirm": Step(
        forms.ConfirmForm,
        lambda d: (
            Action.CONFIRM_REPRESENTATIVE
            if d.get("who") == "representative"
            else Action.CONFIRM_REPORTER
        ),
        lambda case, user, d: services.case_confirm(
            case=case, actor=user, who=d["who"], version=d["version"]
        ),
        "已记录确认。",
    ),
    "send": Step(
        forms.SendForm,
        _fixed(Action.SEND_TO_STREET),
        lambda case, user, d: services.case_send_to_street(
            case=case, actor=user, version=d["version"]
        ),
        "已报送街道组织部门。",
    ),
    "refer": Step(
        forms.ReferForm,
        _fixed(Action.REFER),
        lambda case, user, d: services.case_refer(
            case=case,
            actor=user,
            handling_unit=d["handling_unit"],
            note=d["note"],
            version=d["version"],
        ),
        "已转办承办单位，答复期限已计算。",
        gone="所选的承办单位刚被删除或停用，转办没有保存，请重新选择后再提交。",
    ),
    "escalate": Step(
        forms.EscalateForm,
        _fixed(Action.ESCALATE),
        lambda case, user, d: services.case_escalate(
            case=case, actor=user, reason=d["reason"], version=d["version"]
        ),
        "已上报上级组织部门。",
    ),
    "return": Step(
        forms.ReturnForm,
        _fixed(Action.RETURN),
        lambda case, user, d: services.case_return(
            case=case, actor=user, reason=d["reason"], version=d["version"]
        ),
        "已退回组织部门。",
    ),
    "extension": Step(
        forms.ExtensionForm,
        _fixed(Action.REQUEST_EXTENSION),
        lambda case, user, d: services.case_request_extension(
            case=case, actor=user, reason=d["reason"], version=d["version"]
        ),
        "延期申请已提交，等待党代表意见。",
    ),
    "extension_decide": Step(
        forms.ExtensionDecideForm,
        lambda d: (
            Action.CONSENT_EXTENSION if d.get("consent") == "yes" else Action.REFUSE_EXTENSION
        ),
        lambda case, user, d: services.case_decide_extension(
            case=case,
            actor=user,
            consent=d["consent"] == "yes",
            note=d["note"],
            version=d["version"],
        ),
        "已记录对延期申请的意见。",
    ),
    "plan": Step(
        forms.PlanForm,
        _fixed(Action.PLAN),
        lambda case, user, d: services.case_plan(
            case=case, actor=user, plan=d["plan"], version=d["version"]
        ),
        "办理计划已记录。",
    ),
    "answer": Step(
        forms.AnswerForm,
        _fixed(Action.ANSWER),
        lambda case, user, d: services.case_answer(
            case=case, actor=user, text=d["text"], result=d["result"], version=d["version"]
        ),
        "书面答复已提交，将抄送反映人、党代表和工作室。",
    ),
    "urge": Step(
        forms.UrgeForm,
        _fixed(Action.URGE),
        lambda case, user, d: services.case_urge(
            case=case, actor=user, note=d["note"], version=d["version"]
        ),
        "已督办。",
    ),
    "consult": Step(
        forms.ConsultForm,
        _fixed(Action.CONSULT),
        lambda case, user, d: services.case_consult(
            case=case,
            actor=user,
            held_on=d["held_on"],
            attendees=d["attendees"],
            minutes=d["minutes"],
            outcome=d["outcome"],
            version=d["version"],
        ),
        "三方协商已记录。",
    ),
    "evaluate": Step(
        forms.EvaluateForm,
        lambda d: Action.REOPEN if d.get("reopen") in {"on", "true", "1"} else Action.EVALUATE,
        lambda case, user, d: services.case_evaluate(
            case=case,
            actor=user,
            rating=d["rating"],
            reporter_confirmed=d["reporter_confirmed"],
            representative_confirmed=d["representative_confirmed"],
            street_head_confirmed=d["street_head_confirmed"],
            comment=d["comment"],
            reopen=d["reopen"],
            version=d["version"],
        ),
        "评议结果已记录。",
    ),
    "carry_forward": Step(
        forms.CarryForwardForm,
        _fixed(Action.CARRY_FORWARD),
        lambda case, user, d: services.case_carry_forward(
            case=case, actor=user, form=d["form"], note=d["note"], version=d["version"]
        ),
        "已转为代表提案或建议，交由党代表联络工作机构办理。",
    ),
    "note": Step(
        forms.NoteForm,
        _fixed(Action.NOTE),
        lambda case, user, d: services.case_note(
            case=case, actor=user, text=d["text"], version=d["version"]
        ),
        "备注已记录。",
    ),
}

# Which step form shows for which permitted action (confirm and evaluate are handled
# in the template, as they depend on more than the action).
FORM_FOR_ACTION: dict[str, str] = {
    Action.SEND_TO_STREET: "send",
    Action.REFER: "refer",
    Action.ESCALATE: "escalate",
    Action.RETURN: "return",
    Action.REQUEST_EXTENSION: "extension",
    Action.CONSENT_EXTENSION: "extension_decide",
    Action.REFUSE_EXTENSION: "extension_decide",
    Action.PLAN: "plan",
    Action.ANSWER: "answer",
    Action.URGE: "urge",
    Action.CONSULT: "consult",
    Action.EVALUATE: "evaluate",
    Action.REOPEN: "evaluate",
    Action.CARRY_FORWARD: "carry_forward",
    Action.NOTE: "note",
}

# The page's two confirmation forms, by the action a posted confirmation takes; every
# other step's form is keyed by its step.
CONFIRM_FORM_KEYS: dict[str, str] = {
    Action.CONFIRM_REPRESENTATIVE: "confirm_representative",
    Action.CONFIRM_REPORTER: "confirm_reporter",
}


# The step forms in the order the page offers them: the key in _step_forms' result, the
# step's address, the form's heading and its button.
SHOWN_STEPS = (
    ("confirm_representative", "cases:confirm", "党代表确认登记表内容（须知第7条）", "党代表确认"),
    ("confirm_reporter", "cases:confirm", "反映人签字确认（须知第4条）", "记录反映人已确认"),
    ("send", "cases:send", f"报送街道组织部门（{cite('CM 10')}）", "报送"),
    ("refer", "cases:refer", "转办本级承办单位", "转办"),
    ("escalate", "cases:escalate", "上报上级组织部门", "上报"),
    ("plan", "cases:plan", "办理计划（措施、人员、时限）", "保存办理计划"),
    ("answer", "cases:answer", f"书面答复（{cite('CM 11')}）", "提交答复"),
    ("extension", "cases:extension", "申请延期至 30 个工作日", "申请延期"),
    ("extension_decide", "cases:extension_decide", "对延期申请的意见", "提交意见"),
    ("return", "cases:return", "不属本单位职责，退回", "退回"),
    ("urge", "cases:urge", "督办", "督办"),
    ("consult", "cases:consult", f"三方协商（{cite('CM 12')}）", "记录协商"),
    ("evaluate", "cases:evaluate", f"满意度评议（{cite('CM 12')}）", "提交评议"),
    (
        "carry_forward",
        "cases:carry_forward",
        f"转为代表提案、建议、询问或质询（{cite('CM 9')}）",
        "转交",
    ),
    ("note", "cases:note", "备注", "添加备注"),
)


def _shown_steps(case: Case, step_forms: dict[str, Any]) -> list[dict[str, Any]]:
    """The step forms offered, each with its address made once: the template went
    through fifteen {% with %} blocks, one per possible form, and reversed each
    form's address twice."""
    return [
        {
            "form": step_forms[key],
            "action": reverse(url_name, args=[case.pk]),
            "kind": url_name.removeprefix("cases:"),
            "title": title,
            "button": button,
        }
        for key, url_name, title, button in SHOWN_STEPS
        if key in step_forms
    ]


def _minute(moment: datetime | None) -> str:
    """What `|date:"Y-m-d H:i"` shows, in the current time zone."""
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


# The case's choices the page prints, by their labels (what get_FOO_display returns).
LABELLED = (
    "state",
    "final_rating",
    "channel",
    "occasion",
    "target_level",
    "reporter_gender",
    "outcome",
    "spot_satisfaction",
    "holder_level",
)
_CASE_FIELDS = {field.name: field for field in Case._meta.concrete_fields}
LABELS = {name: dict(_CASE_FIELDS[name].flatchoices) for name in LABELLED}


def _case_texts(case: Case) -> dict[str, str]:
    """The case's dates and choices as the page prints them, made here: the template's
    date filter and get_FOO_display cost some 30–50 µs each."""
    received = case.received_on
    labels = {}
    for name in LABELLED:
        value = getattr(case, name)
        labels[name] = str(LABELS[name].get(value, value))
    return {
        **labels,
        "received_on": f"{received.year}年{received.month}月{received.day}日",
        "created_at": _minute(case.created_at),
        "representative_confirmed_at": _minute(case.representative_confirmed_at),
        "reporter_confirmed_at": _minute(case.reporter_confirmed_at),
        "closed_at": _minute(case.closed_at),
        "unit_received_on": case.unit_received_on.isoformat() if case.unit_received_on else "",
        "due_on": case.due_on.isoformat() if case.due_on else "",
    }


def _role_may(user: Any, case: Case, action: str) -> bool:
    """Whether the user's role lets them take `action` on this case in some state that
    allows it: then a refusal is about the state, and is explained, not hidden."""
    for act, state in TRANSITIONS:
        if act != action:
            continue
        probe = copy.copy(case)
        probe.state = state
        if action in access.permitted_actions(user, probe):
            return True
    return False


def _deadline(case: Case) -> dict[str, Any] | None:
    if case.due_on is None or case.state != CaseState.WITH_UNIT:
        return None
    today = services.today()
    calendar = WorkCalendar()
    if case.due_on < today:
        return {"overdue": True, "days": workdays_between(case.due_on, today, calendar=calendar)}
    return {"overdue": False, "days": workdays_between(today, case.due_on, calendar=calendar)}


def open_steps(case: Case, permitted: set[str]) -> set[str]:
    """The permitted steps the case's level, confirmations and extension leave open: no
    escalation above the city committee; each confirmation once, and none on a case
    closed after its handling (services.confirmation_refusal); a decision only on a
    pending request, a request only when none is pending and the limit is not yet 30
    working days (the page's forms; the API's `permitted_actions`)."""
    steps = set(permitted)
    if case.representative_confirmed_at or services.confirmation_refusal(
        case, Action.CONFIRM_REPRESENTATIVE
    ):
        steps.discard(Action.CONFIRM_REPRESENTATIVE)
    if case.reporter_confirmed_at or services.confirmation_refusal(case, Action.CONFIRM_REPORTER):
        steps.discard(Action.CONFIRM_REPORTER)
    if case.holder_level and HolderLevel(case.holder_level) not in ESCALATION:
        steps.discard(Action.ESCALATE)
    if not case.extension_requested:
        steps -= {Action.CONSENT_EXTENSION, Action.REFUSE_EXTENSION}
    if case.extension_requested or case.due_days == EXTENDED_DAYS:
        steps.discard(Action.REQUEST_EXTENSION)
    return steps


def _step_forms(case: Case, permitted: set[str]) -> dict[str, Any]:
    steps = open_steps(case, permitted)
    names = {FORM_FOR_ACTION[a] for a in steps if a in FORM_FOR_ACTION}
    result = {name: STEPS[name].form(case=case) for name in names}
    if "evaluate" in result and Action.REOPEN not in permitted:
        del result["evaluate"].fields["reopen"]
    if Action.CONFIRM_REPRESENTATIVE in steps:
        result["confirm_representative"] = forms.ConfirmForm(
            case=case, initial={"who": "representative"}
        )
    if Action.CONFIRM_REPORTER in steps:
        result["confirm_reporter"] = forms.ConfirmForm(case=case, initial={"who": "reporter"})
    return result


# What the page prints of a case's answers (with the copies sent of each: not their
# encrypted address), evaluations and attachments, and of the unit and the account
# named on them.
ACCOUNT_NAME = ("full_name", "username")
ANSWER_COLUMNS = (
    "text",
    "result",
    "answered_on",
    "on_time",
    "handling_unit__name",
    *(f"answered_by__{name}" for name in ACCOUNT_NAME),
)
COPY_COLUMNS = ("answer", "recipient", "channel", "status", "delivered_at")
EVALUATION_COLUMNS = (
    "round",
    "rating",
    "reporter_confirmed",
    "representative_confirmed",
    "street_head_confirmed",
    "comment",
    "rated_at",
    "handling_unit__name",
    *(f"rated_by__{name}" for name in ACCOUNT_NAME),
)
ATTACHMENT_COLUMNS = ("original_name", "size")


def _rated_by_street(user: Any, case: Case, permitted: set[str]) -> str:
    """The street that rates an answered case, named to a department holding it that
    does not (a district or city department holding an escalated case): the page tells
    it why it has no rating form (access.rates_case, CM 12). "" otherwise. The name is
    read only then (one query), not joined to every case page."""
    if (
        case.state != CaseState.ANSWERED
        or Action.EVALUATE in permitted
        or case.street_id is None
        or not access.is_holder(user, case)
    ):
        return ""
    return OrgUnit.objects.filter(pk=case.street_id).values_list("name", flat=True).get()


def _detail_context(
    request: HttpRequest,
    case: Case,
    *,
    bound: tuple[str, Any] | None = None,
    error: str = "",
) -> dict[str, Any]:
    user = request.user
    permitted = access.permitted_actions(user, case)
    step_forms = _step_forms(case, permitted)
    if bound is not None:
        step_forms[bound[0]] = bound[1]
    answers = list(
        case.answers.select_related("handling_unit", "answered_by")
        .only(*ANSWER_COLUMNS)
        .prefetch_related(Prefetch("copies", FeedbackCopy.objects.only(*COPY_COLUMNS)))
    )
    head_answers(answers)
    return {
        "case": case,
        "permitted": permitted,
        "step_forms": step_forms,
        "rated_by_street": _rated_by_street(user, case, permitted),
        "shown_steps": _shown_steps(case, step_forms),
        "texts": _case_texts(case),
        "can_see_reporter": access.can_see_reporter(user, case),
        "may_give_code": access.may_give_progress_code(user, case),
        "rep_contact": display_phone(case.representative_contact),
        "deadline": _deadline(case),
        "steps": timeline(case.steps),
        "answers": answers,
        # An evaluation rates an answer (it must name one): a case not yet answered has
        # none, and its page does not ask.
        "evaluations": list(
            case.evaluations.select_related("handling_unit", "rated_by").only(*EVALUATION_COLUMNS)
        )
        if answers
        else [],
        # Who recorded a consultation is not printed.
        "consultations": list(case.consultations.all()),
        "attachments": (
            list(case.attachments.only(*ATTACHMENT_COLUMNS)) if can_download(user, case) else None
        ),
        "attachment_form": forms.AttachmentForm() if Action.NOTE in permitted else None,
        "resident_rating": _resident_rating(answers) if "evaluate" in step_forms else None,
        "error": error,
        "partial": _is_htmx(request),
    }


def _resident_rating(answers: list[Answer]) -> Any:
    """The reporter's own online rating of the answer being rated (their part of CM
    12's joint rating), shown beside the rating form: as a timeline note alone, the
    official recording the joint rating could miss it. One query, only with the form."""
    from minyi.online.models import ResidentRating

    latest = max((a.pk for a in answers), default=None)
    return ResidentRating.objects.filter(answer_id=latest).first() if latest else None


def _render_detail(
    request: HttpRequest, case: Case, *, status: int = 200, **kwargs: Any
) -> HttpResponse:
    template = "cases/case_detail.html"
    if _is_htmx(request):
        template += "#case_body"
    return render(request, template, _detail_context(request, case, **kwargs), status=status)


def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _scoped_case(request, pk))


@require_POST
def case_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    spec = STEPS[step]
    case = _case_for_step(request, pk)
    user = request.user
    action = spec.action(request.POST)
    form_key = CONFIRM_FORM_KEYS.get(action, step)
    if action not in access.permitted_actions(user, case):
        if not _role_may(user, case, action):
            raise Http404
        if request.POST.get("version", "") not in {"", str(case.version)}:
            return _changed(request, case, form_key)
        try:
            next_state(action, case.state)
        except NotAllowed as exc:
            return _render_detail(request, _scoped_case(request, pk), status=400, error=str(exc))
        raise Http404  # pragma: no cover - permitted_actions and the state table disagree
    form = spec.form(request.POST, case=case)
    if not form.is_valid():
        return _render_detail(
            request,
            _scoped_case(request, pk),
            status=400,
            bound=(form_key, form),
            error="请修改以下问题后再提交。",
        )
    try:
        with references_checked(spec.gone):
            spec.run(case, user, form.cleaned_data)
    except services.CaseChanged:
        return _changed(request, case, form_key)
    except ReferenceGone as exc:  # before ValidationError, which it is
        return _gone(request, case, form_key, exc)
    except NotAllowed as exc:
        # Keep what was typed; a form of buttons only (confirm, send) is not shown again.
        keep = (form_key, form) if form.visible_fields() else None
        return _render_detail(
            request, _scoped_case(request, pk), status=400, bound=keep, error=str(exc)
        )
    except ValidationError as exc:
        add_errors(form, exc)
        return _render_detail(
            request,
            _scoped_case(request, pk),
            status=400,
            bound=(form_key, form),
            error="请修改以下问题后再提交。",
        )
    messages.success(request, spec.done)
    if _is_htmx(request):
        return _render_detail(request, _scoped_case(request, pk))
    return redirect(case.get_absolute_url())


def _changed(request: HttpRequest, case: Case, form_key: str) -> HttpResponse:
    """Someone changed the case meanwhile: show it as it is now, with the user's typed
    input kept (against the new version) if the step is still open to them."""
    fresh = _scoped_case(request, case.pk)
    context = _detail_context(request, fresh, error=services.CaseChanged.message)
    if form_key in context["step_forms"]:
        typed: dict[str, Any] = {
            k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"
        }
        typed["version"] = fresh.version
        step = "confirm" if form_key.startswith("confirm_") else form_key
        shown = context["step_forms"][form_key]
        kept = STEPS[step].form(case=fresh, initial=typed)
        for name in set(kept.fields) - set(shown.fields):
            del kept.fields[name]
        context["step_forms"][form_key] = kept
        context["shown_steps"] = _shown_steps(fresh, context["step_forms"])
    template = "cases/case_detail.html" + ("#case_body" if _is_htmx(request) else "")
    return render(request, template, context, status=409)


def _gone(request: HttpRequest, case: Case, form_key: str, gone: ReferenceGone) -> HttpResponse:
    """A row the step referred to was deleted meanwhile: nothing was saved. The case as
    it is now, with the step's form bound to what was posted, checked against the rows
    as they are now (the choice that is gone is marked at its field)."""
    fresh = _scoped_case(request, case.pk)
    step = "confirm" if form_key.startswith("confirm_") else form_key
    form = STEPS[step].form(request.POST, case=fresh)
    form.is_valid()
    keep = (form_key, form) if form.visible_fields() else None
    return _render_detail(request, fresh, status=409, bound=keep, error=gone.message)


def step_view(step: str) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        return case_step(request, pk, step)

    view.__name__ = f"case_{step}"
    return view


@require_POST
def case_reporter(request: HttpRequest, pk: int) -> HttpResponse:
    """The reporter's full details, for those who may see them; every view is logged."""
    case = _scoped_case(request, pk)
    if not access.can_see_reporter(request.user, case):
        raise Http404
    # Read (and decrypted) only now, for someone the full view is for.
    case.refresh_from_db(fields=REPORTER_FULL_VIEW)
    services.record_personal_data_view(case=case, viewer=request.user, purpose="查看案件详情")
    template = "cases/reporter.html"
    if _is_htmx(request):
        template += "#reporter_full"
    context = {"case": case, "home_phone": display_phone(case.reporter_home_phone)}
    response = render(request, template, context)
    response["Cache-Control"] = "no-store"
    return response


# --- tracking ledger ------------------------------------------------------------------

SENT_LEVELS = [
    (HolderLevel.STREET, "街道"),
    (HolderLevel.DISTRICT, "区"),
    (HolderLevel.CITY, "市"),
]

# The case's own columns that a ledger row shows or decides on: the page, its Excel
# export and a studio's printed ledger (minyi.documents) all read these rows. The rest
# (the content, the reporter's other contacts, routing and deadline bookkeeping) stays
# in the database: a 50-row page spent more CPU building the models than the database
# spent answering. A column added to a row must be added here, or it costs a query a
# row (the query-count tests in tests/cases/test_pages.py catch that).
LEDGER_FIELDS = (
    "number",
    "reporter_name_masked",
    "reporter_phone",
    "hide_identity_from_unit",
    "about_unit",
    "summary",
    "received_on",
    "representative_name",
    "representative_position",
    "representative_contact",
    "outcome",
    "spot_answer",
    "representative_confirmed_at",
    "reporter_confirmed_at",
    "handling_unit",
    "state",
    "final_rating",
)
# The steps whose level the ledger's 报送 column ticks.
ROUTING_ACTIONS = [Action.SEND_TO_STREET, Action.ESCALATE]


class Ledger(ListPage):
    """意见建议办理情况跟踪明细帐 (CM 12, annex 2), one row per case in scope. The
    reporter is masked here; the full ledger with personal data is an export matter."""

    model = Case
    filter_form = forms.LedgerFilterForm
    template_name = "cases/ledger.html"
    title = "意见建议办理情况跟踪明细帐"

    def base_queryset(self) -> QuerySet:
        routing = CaseStep.objects.filter(action__in=ROUTING_ACTIONS).only("case_id", "to_level")
        # The row names the studio, its street and the handling units: read as values
        # with the row rather than as a studio, a unit, a street and a handling unit
        # built for every row (the same few, over and over). Answers and evaluations
        # bring only what the row shows of them.
        answers = (
            Answer.objects.annotate(unit_name=F("handling_unit__name"))
            .only("case", "answered_on", "on_time", "result", "text")
            .order_by("answered_on", "pk")
        )
        evaluations = Evaluation.objects.only(
            "case",
            "rating",
            "reporter_confirmed",
            "representative_confirmed",
            "street_head_confirmed",
            "rated_at",
        ).order_by("rated_at", "pk")
        return (
            Case.objects.for_user(self.request.user)
            .only(*LEDGER_FIELDS)
            .prefetch_related(
                Prefetch("answers", queryset=answers, to_attr="answer_list"),
                Prefetch("evaluations", queryset=evaluations, to_attr="evaluation_list"),
                Prefetch("steps", queryset=routing, to_attr="routing_steps"),
            )
            .order_by("studio__unit__code", "studio__name", "year", "serial")
        )

    def row_columns(self, qs: QuerySet) -> QuerySet:
        # Joined for the rows shown only: the count of a street's ledger joins nothing.
        return qs.annotate(
            studio_name=F("studio__name"),
            studio_unit_name=F("studio__unit__name"),
            studio_unit_level=F("studio__unit__level"),
            studio_street_name=F("studio__unit__street__name"),
            handling_unit_name=F("handling_unit__name"),
        )

    def filter(self, qs: QuerySet, data: dict[str, Any]) -> QuerySet:
        if data.get("date_from"):
            qs = qs.filter(received_on__gte=data["date_from"])
        if data.get("date_to"):
            qs = qs.filter(received_on__lte=data["date_to"])
        for name in ("state", "studio", "handling_unit"):
            if data.get(name):
                qs = qs.filter(**{name: data[name]})
        qs = _name_filters(qs, self.request.user, data)
        if data.get("rating"):
            qs = qs.filter(final_rating=data["rating"])
        return qs

    def page_rows(self, qs: QuerySet) -> list[Any]:
        # The page reads its rows' answers, evaluations and routing steps as tuples of
        # the fields its cells print (ledger_rows.page_related), in the same three
        # queries; the export and the printed ledger keep the prefetched models, whose
        # labels and dates their columns use.
        rows = list(self.row_columns(qs).prefetch_related(None))
        page_related(rows, ROUTING_ACTIONS)
        return rows

    def decorate(self, rows: list[Any]) -> list[Any]:
        """What the page, the export and the printed ledger read of a row beyond its
        columns: the levels it was sent to, its last answer and evaluation, masking."""
        _mark_protected(self.request.user, rows)
        for case in rows:
            reached = {step.to_level for step in case.routing_steps}
            if HolderLevel.CITY_COMMITTEE in reached:
                reached.add(HolderLevel.CITY)
            case.sent = [(label, level in reached) for level, label in SENT_LEVELS]
            case.last_answer = case.answer_list[-1] if case.answer_list else None
            case.last_evaluation = case.evaluation_list[-1] if case.evaluation_list else None
            case.on_the_spot = case.outcome == Outcome.ON_THE_SPOT
            case.rep_contact = display_phone(case.representative_contact)
            if case.studio_street_name is not None:
                case.street_name = case.studio_street_name
            elif case.studio_unit_level == Level.STREET:
                case.street_name = case.studio_unit_name
            else:
                case.street_name = "—"
        return rows

    def present(self, rows: list[Any]) -> list[Any]:
        link = detail_links()
        for case in rows:
            case.row_html = ledger_row_html(case, link(case.pk))
        return rows
