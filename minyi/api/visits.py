"""Household visits (入户走访, CM 4) over the API: the list page's rows and filters, a
visit, and recording, correcting and withdrawing one through the visit pages' forms
and `minyi.duties.visits`. So the same people may do it as on the pages (the
representative; their studio's liaison within the studio's area; the party secretary
standing in where a community has no studio, CM 7; the department), a year whose
evaluation is finalised stays closed, and every write leaves the pages' audit rows.

The household's address is personal data: it is written here but always answered
masked (the first six characters and ****). Seeing it in full is the visit page's
recorded reveal, which the API does not offer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from ninja.responses import Status

from minyi.api.common import (
    ERRORS,
    ONE,
    STEP,
    AccountText,
    ApiError,
    PageParams,
    account,
    form_error,
    screen_list,
)
from minyi.duties import visits as services
from minyi.duties.forms_people import HouseholdVisitEditForm, HouseholdVisitForm, VisitWithdrawForm
from minyi.duties.models import HouseholdVisit
from minyi.duties.views_people import VisitList

router = Router(tags=["household-visits"])


class VisitItem(Schema):
    id: int
    representative_id: int
    representative_name: str
    community_id: int
    community_name: str
    visited_on: date
    household: str
    address_masked: str
    version: int
    withdrawn: bool
    editable: bool


class VisitDetail(VisitItem):
    notes: str
    recorded_by: str
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    withdrawn_reason: str


class VisitPage(Schema):
    items: list[VisitItem]
    next_cursor: str | None


class VisitFilters(PageParams):
    """The filters of the visit list page (入户走访)."""

    q: str | None = None
    representative: int | None = None
    year: int | None = None
    withdrawn: bool = False


class VisitIn(Schema):
    """The fields of the record form (登记入户走访); validated by that form."""

    representative_id: int
    community_id: int
    visited_on: date
    household: str
    address: str
    notes: AccountText = ""


class CorrectIn(Schema):
    """`version` is the visit's version as last read; a stale one is refused (409).
    A field left out keeps its value; a blank `address` keeps the address on record."""

    version: int
    representative_id: int | None = None
    community_id: int | None = None
    visited_on: date | None = None
    household: str | None = None
    address: str = ""
    notes: AccountText | None = None


class WithdrawIn(Schema):
    version: int
    reason: str


def _item(visit: HouseholdVisit, editable: bool) -> dict[str, Any]:
    community = visit.community
    return {
        "id": visit.pk,
        "representative_id": visit.representative_id,
        "representative_name": visit.representative.name,
        "community_id": visit.community_id,
        "community_name": community.short_name or community.name,
        "visited_on": visit.visited_on,
        "household": visit.household,
        "address_masked": services.mask_address(visit.address),
        "version": visit.version,
        "withdrawn": visit.withdrawn_at is not None,
        "editable": editable,
    }


def _detail(user: Any, pk: int) -> dict[str, Any]:
    visit = (
        HouseholdVisit.objects.for_user(user)
        .select_related("representative", "community", "recorded_by", "withdrawn_by")
        .distinct()
        .filter(pk=pk)
        .first()
    )
    if visit is None:
        raise Http404
    editable = visit.withdrawn_at is None and (
        services.editable_visits(user).filter(pk=visit.pk).exists()
    )
    body = _item(visit, editable)
    body.update(
        notes=visit.notes,
        recorded_by=str(visit.recorded_by),
        withdrawn_at=visit.withdrawn_at,
        withdrawn_by=str(visit.withdrawn_by) if visit.withdrawn_by_id else None,
        withdrawn_reason=visit.withdrawn_reason,
    )
    return body


@router.get("/household-visits", response={200: VisitPage, **ERRORS})
def list_visits(request: HttpRequest, filters: Query[VisitFilters]) -> dict[str, Any]:
    """Visits in the token's scope with the list page's filters, newest first; withdrawn
    ones only with `withdrawn=true`. `editable`: whether the token may correct or
    withdraw the visit (a year whose evaluation is finalised still refuses, 409)."""
    rows, cursor = screen_list(request, VisitList, filters)
    return {"items": [_item(v, v.editable) for v in rows], "next_cursor": cursor}


@router.get("/household-visits/{visit_id}", response={200: VisitDetail, **ONE})
def get_visit(request: HttpRequest, visit_id: int) -> dict[str, Any]:
    """The visit as its page shows it before the recorded reveal: address masked."""
    return _detail(account(request), visit_id)


def _closed(visit: HouseholdVisit) -> ApiError | None:
    refusal = (services.WITHDRAWN if visit.withdrawn_at else "") or (
        services.closed_year_refusal(visit.visited_on.year)
    )
    return ApiError(409, "transition_not_allowed", refusal) if refusal else None


def _editable(user: Any, visit_id: int) -> HouseholdVisit:
    """As the visit's edit and withdraw pages: whoever could record it now; others 404."""
    qs = services.editable_visits(user).select_related("representative", "community")
    visit = qs.filter(pk=visit_id).first()
    if visit is None:
        raise Http404
    if refused := _closed(visit):
        raise refused
    return visit


def _write(run: Any) -> Any:
    """The service's refusals in the API's terms; its ValidationError (fields) is the
    API's 422 handler's."""
    try:
        return run()
    except PermissionError as exc:
        raise Http404 from exc
    except services.Changed as exc:
        raise ApiError(409, "visit_changed", services.Changed.message) from exc
    except services.NotAllowed as exc:
        raise ApiError(409, "transition_not_allowed", str(exc)) from exc


@router.post("/household-visits", response={201: VisitDetail, **STEP})
def record_visit(request: HttpRequest, payload: VisitIn) -> Any:
    """登记入户走访 for a representative and community the token may record for (after
    the visit: not a future date; not in a year whose evaluation is finalised)."""
    user = account(request)
    if not services.can_record(user):
        raise Http404  # as the record page: a role that records no visits
    data = payload.dict()
    data["representative"] = data.pop("representative_id")
    data["community"] = data.pop("community_id")
    data["visited_on"] = data["visited_on"].isoformat()
    form = HouseholdVisitForm(data, user=user)
    if not form.is_valid():
        raise form_error(form)
    visit = _write(lambda: services.household_visit_record(actor=user, **form.cleaned_data))
    return Status(201, _detail(user, visit.pk))


@router.post("/household-visits/{visit_id}/correct", response={200: VisitDetail, **STEP})
def correct_visit(request: HttpRequest, visit_id: int, payload: CorrectIn) -> Any:
    """修改入户走访, all or nothing, by whoever could record it now."""
    user = account(request)
    visit = _editable(user, visit_id)
    sent = payload.dict()
    data = {"version": sent["version"], "address": sent["address"]}
    for field, key, current in (
        ("representative", "representative_id", visit.representative_id),
        ("community", "community_id", visit.community_id),
        ("visited_on", "visited_on", visit.visited_on),
        ("household", "household", visit.household),
        ("notes", "notes", visit.notes),
    ):
        data[field] = current if sent[key] is None else sent[key]
    data["visited_on"] = data["visited_on"].isoformat()
    form = HouseholdVisitEditForm(data, user=user, visit=visit)
    if not form.is_valid():
        raise form_error(form)
    _write(lambda: services.household_visit_update(actor=user, visit=visit, **form.cleaned_data))
    return _detail(user, visit.pk)


@router.post("/household-visits/{visit_id}/withdraw", response={200: VisitDetail, **STEP})
def withdraw_visit(request: HttpRequest, visit_id: int, payload: WithdrawIn) -> Any:
    """撤回入户走访 entered by mistake, with the reason: it stays on record and no longer
    counts (CM 4, the duty record, reports, compliance)."""
    user = account(request)
    visit = _editable(user, visit_id)
    form = VisitWithdrawForm(payload.dict())
    if not form.is_valid():
        raise form_error(form)
    _write(lambda: services.household_visit_withdraw(actor=user, visit=visit, **form.cleaned_data))
    return _detail(user, visit.pk)
