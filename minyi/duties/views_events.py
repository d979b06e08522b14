"""Event pages: the list, create/edit, the event with its steps (publish, cancel,
record what happened) and the cases registered that day; the public list of
published events; the July activity month and its report. Thin views over
minyi.duties.events."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from minyi.cases.models import Case
from minyi.core import once, stale
from minyi.core.forms import add_errors
from minyi.core.integrity import references_checked
from minyi.core.views_base import ListPage
from minyi.duties import events as services
from minyi.duties.forms_events import (
    ActivityMonthForm,
    CancelForm,
    EventCreateForm,
    EventFilterForm,
    EventForm,
    PublishForm,
    RecordForm,
)
from minyi.duties.forms_plans import editable_studios
from minyi.duties.models import ActivityMonth, Appointment, Event, EventState
from minyi.duties.plans import SHANGHAI
from minyi.duties.public_pages import render_public
from minyi.online import public_cache
from minyi.people.models import Representative

PUBLIC_PAGE_SIZE = 30


def reps_prefetch() -> Prefetch:
    return Prefetch("representatives", queryset=Representative.objects.order_by("name"))


def mark_events(rows: list[Event]) -> list[Event]:
    """Flag late publication and the activity month's theme, with one query."""
    years = {timezone.localtime(e.starts_at).year for e in rows if e.activity_month}
    themes = (
        dict(ActivityMonth.objects.filter(year__in=years).values_list("year", "theme"))
        if years
        else {}
    )
    for event in rows:
        # Attributes for the template only, on these rows.
        event.late = services.is_late(event)  # type: ignore[attr-defined]
        event.month_theme = (  # type: ignore[attr-defined]
            themes.get(timezone.localtime(event.starts_at).year) if event.activity_month else None
        )
    return rows


class EventList(ListPage):
    model = Event
    filter_form = EventFilterForm
    template_name = "duties/event_list.html"
    title = "活动安排"

    def base_queryset(self) -> QuerySet:
        return (
            Event.objects.for_user(self.request.user)
            .distinct()
            .select_related("studio", "studio__unit", "studio__unit__street")
            .prefetch_related(reps_prefetch())
            .order_by("starts_at", "pk")
        )

    def filter(self, qs: QuerySet, data: dict[str, Any]) -> QuerySet:
        if data.get("q"):
            qs = qs.filter(Q(theme__icontains=data["q"]) | Q(place__icontains=data["q"]))
        for name in ("studio", "kind", "state"):
            if data.get(name):
                qs = qs.filter(**{name: data[name]})
        if data.get("date_from"):
            qs = qs.filter(starts_at__gte=datetime.combine(data["date_from"], time.min, SHANGHAI))
        if data.get("date_to"):
            end = datetime.combine(data["date_to"] + timedelta(1), time.min, SHANGHAI)
            qs = qs.filter(starts_at__lt=end)
        if data.get("activity_month"):
            qs = qs.filter(activity_month=True)
        return qs

    def decorate(self, rows: list[Any]) -> list[Any]:
        return mark_events(rows)

    def extra_context(self) -> dict[str, Any]:
        return {"can_create": editable_studios(self.request.user).exists()}


def _event(request: HttpRequest, pk: int, *, write: bool = False) -> Event:
    manager = Event.objects
    qs = manager.for_editor(request.user) if write else manager.for_user(request.user)
    return get_object_or_404(
        qs.distinct().select_related("studio", "studio__unit").prefetch_related(reps_prefetch()),
        pk=pk,
    )


def _form_page(
    request: HttpRequest, form: Any, title: str, cancel: str, status: int | None = None
) -> HttpResponse:
    return render(
        request,
        "duties/event_form.html",
        {"form": form, "title": title, "cancel_url": cancel},
        status=status or (400 if form.errors else 200),
    )


# A studio or representative deleted between the form's read and the commit: shown on
# the form like any refusal of the service, what was typed kept (minyi.core.integrity).
EVENT_GONE = "所选的工作室或党代表刚被删除或停用，活动没有保存，请重新选择后再提交。"


def event_create(request: HttpRequest) -> HttpResponse:
    if not editable_studios(request.user).exists():
        raise Http404
    initial = {}
    if request.GET.get("studio"):
        initial["studio"] = request.GET["studio"]
    form = EventCreateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with references_checked(EVENT_GONE):
                event = services.event_create(
                    actor=request.user,
                    data=form.event_data(),
                    representatives=list(form.cleaned_data["representatives"]),
                    submission_key=form.posted_key,
                )
        except PermissionError as exc:
            raise Http404 from exc
        except IntegrityError:
            # The form sent twice: the event its key made, nothing written.
            earlier = services.created_with(form.posted_key)
            if earlier is None:
                raise
            return _created_already(request, form, earlier)
        except ValidationError as exc:
            # The form sent twice after the first committed, with representatives: the
            # overlap rule refuses it before the key's constraint would.
            earlier = services.created_with(form.posted_key)
            if earlier is not None:
                return _created_already(request, form, earlier)
            add_errors(form, exc)
        else:
            messages.success(request, "活动已保存（尚未发布预告）。")
            return redirect(event.get_absolute_url())
    return _form_page(request, form, "新建活动", "/duties/events/")


def _created_already(request: HttpRequest, form: EventCreateForm, earlier: Event) -> HttpResponse:
    """The event this form's key made: its page, nothing written. A key of an event this
    account may not edit is an expired page, the form again with a fresh key."""
    if Event.objects.for_editor(request.user).filter(pk=earlier.pk).exists():
        messages.info(request, "这个活动已经保存过了，没有重复新建。")
        return redirect(earlier.get_absolute_url())
    form.refresh_key()
    form.add_error(None, once.REUSED)
    return _form_page(request, form, "新建活动", "/duties/events/")


def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event(request, pk, write=True)
    form = stale.guard(EventForm(request.POST or None, user=request.user, event=event), event)
    title = f"编辑：{event}"
    if request.method == "POST" and form.is_valid():
        try:
            with references_checked(EVENT_GONE), transaction.atomic():
                stale.check(form, Event, event.pk)
                services.event_update(
                    actor=request.user,
                    event=event,
                    data=form.event_data(),
                    representatives=list(form.cleaned_data["representatives"]),
                )
        except stale.StaleEdit as exc:
            stale.refuse(form, exc)
            return _form_page(request, form, title, event.get_absolute_url(), status=409)
        except PermissionError as exc:
            raise Http404 from exc
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "活动已保存。")
            return redirect(event.get_absolute_url())
    return _form_page(request, form, title, event.get_absolute_url())


def _context(request: HttpRequest, event: Event, **forms: Any) -> dict[str, Any]:
    can_edit = Event.objects.for_editor(request.user).filter(pk=event.pk).exists()
    day = timezone.localtime(event.starts_at).date()
    cases = (
        Case.objects.for_user(request.user)
        .filter(studio=event.studio, received_on=day)
        .order_by("number")
    )
    mark_events([event])
    return {
        "event": event,
        "representatives": list(event.representatives.all()),
        "attendances": list(event.attendances.select_related("representative")),
        "cases": list(cases),
        "booked": Appointment.objects.filter(event=event).holding_a_place().count(),
        "can_edit": can_edit and event.state in services.EDITABLE,
        "can_publish": can_edit and event.state == EventState.PLANNED,
        "can_cancel": can_edit and event.state in services.EDITABLE,
        "can_record": can_edit and event.state != EventState.CANCELLED,
        "publish_form": forms.get("publish_form") or PublishForm(),
        "cancel_form": forms.get("cancel_form") or CancelForm(),
        "error": forms.get("error", ""),
    }


def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event(request, pk)
    return render(request, "duties/event_detail.html", _context(request, event))


def _step(request: HttpRequest, event: Event, run: Any, done: str, **forms: Any):
    try:
        run()
    except PermissionError as exc:
        raise Http404 from exc
    except ValidationError as exc:
        for form in forms.values():
            add_errors(form, exc)
        if not forms or not any(f.errors for f in forms.values()):
            forms["error"] = " ".join(exc.messages)
        return render(
            request, "duties/event_detail.html", _context(request, event, **forms), status=400
        )
    messages.success(request, done)
    return redirect(event.get_absolute_url())


@require_POST
def event_publish(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event(request, pk, write=True)
    form = PublishForm(request.POST)
    form.is_valid()
    return _step(
        request,
        event,
        lambda: services.event_publish(
            actor=request.user,
            event=event,
            late_reason=form.cleaned_data.get("late_reason", ""),
        ),
        "活动预告已发布。",
        publish_form=form,
    )


@require_POST
def event_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event(request, pk, write=True)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "duties/event_detail.html",
            _context(request, event, cancel_form=form),
            status=400,
        )
    return _step(
        request,
        event,
        lambda: services.event_cancel(
            actor=request.user, event=event, reason=form.cleaned_data["reason"]
        ),
        "活动已取消。",
        cancel_form=form,
    )


def event_record(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event(request, pk, write=True)
    if event.state == EventState.CANCELLED:
        raise Http404
    reps = list(
        Representative.objects.filter(
            Q(events=event) | Q(assignments__studio=event.studio, assignments__active=True)
        )
        .distinct()
        .order_by("name")
    )
    form = RecordForm(request.POST or None, event=event, reps=reps)
    if request.method == "POST" and form.is_valid():
        try:
            services.event_record(
                actor=request.user,
                event=event,
                attendance=form.presences(),
                people_received=form.cleaned_data["people_received"],
                summary=form.cleaned_data["summary"],
            )
        except PermissionError as exc:
            raise Http404 from exc
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "活动情况已记录。")
            return redirect(event.get_absolute_url())
    return render(
        request,
        "duties/event_record.html",
        {"form": form, "event": event, "title": f"记录活动情况：{event}"},
        status=400 if form.errors else 200,
    )


# --- public ---------------------------------------------------------------------------


@login_not_required
def public_events(request: HttpRequest) -> HttpResponse:
    """Upcoming published events of every studio: studio, time, place, representatives
    (names and positions only) and places left. No personal data.

    The same for every visitor: its table is rendered once per studio and page and
    kept for a short time, until a write to what it shows (minyi.online.public_cache,
    as the public studio page)."""
    studio = request.GET.get("studio", "")
    studio_id = int(studio) if studio.isdigit() and len(studio) <= 18 else None
    number = request.GET.get("page", "")
    # A page number is kept as asked only when plausible: any other asks for page 1's
    # key (get_page answers it with the first or last page), so that odd addresses
    # cannot fill the cache with copies.
    number = number if number.isdigit() and len(number) <= 4 else "1"
    key = public_cache.key(f"events:{studio_id or 0}:{number}", 0)
    content = cache.get(key)
    if content is None:
        content = _public_events_table(studio_id, number)
        cache.set(key, content, public_cache.SECONDS)
    # Our own rendering of public data, escaped when it was rendered.
    # A resident's page: the residents' frame and its large-text mode, as the booking.
    return render_public(request, "duties/event_public.html", {"content": mark_safe(content)})  # noqa: S308


def _public_events_table(studio_id: int | None, number: str) -> str:
    qs = (
        Event.objects.filter(state=EventState.PUBLISHED, starts_at__gte=timezone.now())
        .select_related("studio", "studio__unit", "studio__unit__street")
        .prefetch_related(
            Prefetch("representatives", queryset=Representative.objects.order_by("name"))
        )
        .with_places_left()
        .order_by("starts_at", "pk")
    )
    if studio_id is not None:
        qs = qs.filter(studio_id=studio_id)
    page = Paginator(qs, PUBLIC_PAGE_SIZE).get_page(number)
    rows = list(page.object_list)
    query = f"studio={studio_id}" if studio_id is not None else ""
    return render_to_string(
        "duties/_event_public_table.html", {"page": page, "rows": rows, "query": query}
    )


# --- the activity month (CM 6) --------------------------------------------------------


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else timezone.localdate().year


def activity_month(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    month = ActivityMonth.objects.filter(year=year).first()
    rows, totals = services.activity_month_report(user=request.user, year=year)
    return render(
        request,
        "duties/activity_month.html",
        {
            "year": year,
            "month": month,
            "rows": rows,
            "totals": totals,
            "can_set": services.can_set_activity_month(request.user),
            "years": range(year - 2, year + 2),
        },
    )


def activity_month_edit(request: HttpRequest, year: int) -> HttpResponse:
    if not services.can_set_activity_month(request.user):
        raise Http404
    month = ActivityMonth.objects.filter(year=year).first()
    form = ActivityMonthForm(request.POST or None, instance=month)
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_month_set(
                actor=request.user,
                year=year,
                theme=form.cleaned_data["theme"],
                content=form.cleaned_data["content"],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"{year}年活动月主题已保存。")
            return redirect(f"/duties/activity-month/?year={year}")
    return render(
        request,
        "duties/activity_month_form.html",
        {"form": form, "year": year, "title": f"{year}年七月党代表活动月"},
        status=400 if form.errors else 200,
    )
