"""Household visits (入户走访, CM 4) over the API: the list page's rows and filters with
the address masked, and recording, correcting and withdrawing through the visit pages'
forms and services: the same people may as on the pages (the studio's liaison, the
stand-in party secretary of CM 7, the department), a finalised year stays closed,
another studio's liaison gets 404, bad input is 422 in Chinese with nothing saved, a
stale version is 409, and every write leaves the pages' audit rows."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from minyi.audit.models import AuditEvent
from minyi.duties.models import HouseholdVisit
from minyi.duties.visits import household_visit_record
from minyi.evaluation.models import EvaluationRound
from minyi.evaluation.states import RoundState
from minyi.people.models import Representative, User
from tests.api.conftest import ApiClient, refused

pytestmark = pytest.mark.django_db

ADDRESS = "沙头角演示小区 3 栋 501"
SHATOUJIAO, TIANXIN = "440308003006", "440308003009"


def _rep(name: str = "演示代表·陈明") -> Representative:
    return Representative.objects.get(name=name)


def _body(world: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "representative_id": _rep().pk,
        "community_id": world[SHATOUJIAO].pk,
        "visited_on": "2026-03-04",
        "household": "演示·王先生家",
        "address": ADDRESS,
        "notes": "了解加装电梯的意见",
    }
    body.update(overrides)
    return body


def _audited(action: str, visit_id: int) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=action, object_type="duties.householdvisit", object_id=str(visit_id)
        )
    )


def _visit(world: Any, actor: str = "shatoujiao", **overrides: Any) -> HouseholdVisit:
    values = {
        "representative": _rep(),
        "community": world[SHATOUJIAO],
        "visited_on": date(2026, 3, 4),
        "household": "演示·王先生家",
        "address": ADDRESS,
    }
    values.update(overrides)
    return household_visit_record(actor=User.objects.get(username=actor), **values)


# --- writing ---------------------------------------------------------------------------


def test_the_liaison_records_corrects_and_withdraws_with_the_pages_audit(
    api: Any, world: Any
) -> None:
    liaison = api("liaison")
    created = liaison.post("/household-visits", _body(world))
    assert created.status_code == 201, created.content.decode()
    visit = created.json()
    assert visit["address_masked"] == "沙头角演示小****" and ADDRESS not in created.content.decode()
    assert visit["version"] == 1 and visit["editable"] and visit["recorded_by"] == "演示联络员·林芳"
    stored = HouseholdVisit.objects.get(pk=visit["id"])
    assert stored.address == ADDRESS and stored.recorded_by.username == "liaison"
    (row,) = _audited("create", visit["id"])
    assert row.actor_name == "liaison" and "沙头角演示" not in str(row.fields) + row.detail

    path = f"/household-visits/{visit['id']}"
    # Only what is sent changes; a blank address keeps the one on record.
    corrected = liaison.post(f"{path}/correct", {"version": 1, "household": "演示·汪先生家"})
    assert corrected.status_code == 200, corrected.content.decode()
    assert corrected.json()["household"] == "演示·汪先生家" and corrected.json()["version"] == 2
    stored.refresh_from_db()
    assert stored.address == ADDRESS and stored.notes == "了解加装电梯的意见"
    assert {"household", "version"} <= set(_audited("update", visit["id"])[0].fields)

    withdrawn = liaison.post(f"{path}/withdraw", {"version": 2, "reason": "重复登记"})
    assert withdrawn.status_code == 200, withdrawn.content.decode()
    body = withdrawn.json()
    assert body["withdrawn"] and body["withdrawn_reason"] == "重复登记" and not body["editable"]
    assert len(_audited("update", visit["id"])) == 2
    # Withdrawn: it stays, refused with the reason; it no longer counts in the list.
    again = refused(liaison.post(f"{path}/correct", {"version": 3, "notes": "补"}), 409)
    assert "已撤回" in again["message"]
    assert liaison.get("/household-visits").json()["items"] == []


def test_a_stale_version_is_409_and_changes_nothing(api: Any, world: Any) -> None:
    visit = _visit(world)
    rep, liaison = api("rep"), api("liaison")
    path = f"/household-visits/{visit.pk}"
    assert rep.post(f"{path}/correct", {"version": 1, "notes": "代表补充"}).status_code == 200
    stale = refused(liaison.post(f"{path}/correct", {"version": 1, "notes": "联络员改"}), 409)
    assert stale["code"] == "visit_changed" and "刚刚已被他人修改" in stale["message"]
    refused(liaison.post(f"{path}/withdraw", {"version": 1, "reason": "重复"}), 409)
    visit.refresh_from_db()
    assert visit.notes == "代表补充" and visit.version == 2 and visit.withdrawn_at is None
    # The version is required, as on the page: a blind overwrite is not offered.
    refused(liaison.post(f"{path}/correct", {"notes": "联络员改"}), 422, "version")


def test_another_studio_s_liaison_and_other_roles_get_404(
    api: Any, world: Any, other_liaison: ApiClient
) -> None:
    visit = _visit(world)
    path = f"/household-visits/{visit.pk}"
    for client in (other_liaison, api("meisha"), api("unit")):
        assert client.get(path).status_code == 404
        assert client.post(f"{path}/correct", {"version": 1, "notes": "x"}).status_code == 404
        assert client.post(f"{path}/withdraw", {"version": 1, "reason": "x"}).status_code == 404
        assert client.get("/household-visits").json()["items"] == []
    visit.refresh_from_db()
    assert visit.version == 1 and visit.withdrawn_at is None
    # A handling unit records no visits at all (404, as the record page); another
    # studio's liaison records, but not for 沙头角's representative (422, the page's words).
    assert api("unit").post("/household-visits", _body(world)).status_code == 404
    answer = refused(other_liaison.post("/household-visits", _body(world)), 422)
    assert answer["message"] == "只能为进驻本工作室的党代表登记入户走访。"
    assert HouseholdVisit.objects.count() == 1


def test_the_stand_in_secretary_records_in_the_community_for_its_linked_representatives(
    api: Any, world: Any
) -> None:
    """田心社区 has no studio: its party secretary stands in as liaison (CM 7)."""
    secretary = api("secretary")
    lin = _rep("演示代表·林秀英")  # linked to 沙头角 and 田心
    body = _body(world, representative_id=lin.pk, community_id=world[TIANXIN].pk)
    created = secretary.post("/household-visits", body)
    assert created.status_code == 201, created.content.decode()
    path = f"/household-visits/{created.json()['id']}"
    assert secretary.post(f"{path}/correct", {"version": 1, "notes": "回访"}).status_code == 200
    # Beyond the community, or a representative not linked to it: refused in Chinese.
    elsewhere = secretary.post("/household-visits", {**body, "community_id": world[SHATOUJIAO].pk})
    assert refused(elsewhere, 422, "community_id")["message"] == "只能登记在本社区的入户走访。"
    chen = secretary.post("/household-visits", {**body, "representative_id": _rep().pk})
    refused_chen = refused(chen, 422, "representative_id")
    assert refused_chen["message"] == "只能为联系本社区的党代表登记入户走访。"
    # The list's representative filter offers the stand-in the linked representatives.
    listed = secretary.get("/household-visits", {"representative": lin.pk}).json()["items"]
    assert [item["id"] for item in listed] == [created.json()["id"]]
    # A visit of 陈明 in 沙头角 is none of the stand-in's business.
    assert secretary.get(f"/household-visits/{_visit(world).pk}").status_code == 404
    assert HouseholdVisit.objects.count() == 2


def test_a_year_whose_evaluation_is_finalised_is_closed(api: Any, world: Any) -> None:
    visit = _visit(world)
    EvaluationRound.objects.create(
        year=2026, state=RoundState.DRAFTING, opened_by=User.objects.get(username="city")
    )
    rep = api("rep")
    refusal = "2026年度评估已定稿，该年度的入户走访不能再登记、修改或撤回。"
    assert (
        refused(rep.post("/household-visits", _body(world)), 422, "visited_on")["message"]
        == refusal
    )
    path = f"/household-visits/{visit.pk}"
    assert (
        refused(rep.post(f"{path}/correct", {"version": 1, "notes": "补"}), 409)["message"]
        == refusal
    )
    assert (
        refused(rep.post(f"{path}/withdraw", {"version": 1, "reason": "重复"}), 409)["message"]
        == refusal
    )
    assert HouseholdVisit.objects.count() == 1 and HouseholdVisit.objects.get().version == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"visited_on": "tomorrow"}, "visited_on"),
        ({"visited_on": "2026-02-30"}, "visited_on"),
        ({"household": "  "}, "household"),
        ({"address": ""}, "address"),
        ({"address": "地" * 201}, "address"),
        ({"notes": "a\x00b"}, "notes"),
        ({"representative_id": 999999}, "representative_id"),
        ({"community_id": None}, "community_id"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_nothing_is_saved(
    api: Any, world: Any, overrides: dict[str, Any], field: str
) -> None:
    if overrides.get("visited_on") == "tomorrow":
        # Worked out here, not at collection: a run crossing midnight would post today.
        overrides = {"visited_on": (timezone.localdate() + timedelta(1)).isoformat()}
    refused(api("liaison").post("/household-visits", _body(world, **overrides)), 422, field)
    assert not HouseholdVisit.objects.exists()
    assert not AuditEvent.objects.filter(object_type="duties.householdvisit").exists()


def test_a_bad_correction_or_withdrawal_changes_nothing(api: Any, world: Any) -> None:
    visit = _visit(world)
    rep = api("rep")
    path = f"/household-visits/{visit.pk}"
    refused(rep.post(f"{path}/correct", {"version": 1, "household": ""}), 422, "household")
    bad_community = {"version": 1, "community_id": 999999}
    refused(rep.post(f"{path}/correct", bad_community), 422, "community_id")
    refused(rep.post(f"{path}/withdraw", {"version": 1, "reason": " "}), 422, "reason")
    visit.refresh_from_db()
    assert visit.version == 1 and visit.withdrawn_at is None
    assert not _audited("update", visit.pk)


# --- reading ---------------------------------------------------------------------------


def test_the_list_has_the_page_s_filters_and_masks_the_address(api: Any, world: Any) -> None:
    lin = _rep("演示代表·林秀英")
    chen_visit = _visit(world)
    lin_visit = _visit(world, representative=lin, household="演示·李女士家")
    old = _visit(world, visited_on=date(2025, 6, 1), household="演示·赵先生家")
    street = api("shatoujiao")

    def ids(**params: Any) -> list[int]:
        response = street.get("/household-visits", params)
        assert response.status_code == 200, response.content.decode()
        assert ADDRESS not in response.content.decode()
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [old.pk, lin_visit.pk, chen_visit.pk]
    assert ids(representative=lin.pk) == [lin_visit.pk]
    assert ids(year=2025) == [old.pk]
    assert ids(q="李女士") == [lin_visit.pk]
    first = street.get("/household-visits", {"limit": 2}).json()
    rest = street.get("/household-visits", {"cursor": first["next_cursor"]}).json()
    assert [i["id"] for i in first["items"] + rest["items"]] == ids()
    item = first["items"][0]
    assert item["address_masked"] == "沙头角演示小****" and "address" not in item
    # Withdrawn visits only on request, as on the page.
    old.withdrawn_at = timezone.now()
    old.save()
    assert ids() == [lin_visit.pk, chen_visit.pk]
    assert ids(withdrawn="true") == [old.pk, lin_visit.pk, chen_visit.pk]
    # Filters the page does not have, or out of range, are refused rather than ignored.
    refused(street.get("/household-visits", {"studio": 1}), 422, "studio")
    refused(street.get("/household-visits", {"year": 1999}), 422, "year")
    meisha_rep = _rep("演示代表·黄海")
    refused(street.get("/household-visits", {"representative": meisha_rep.pk}), 422)


def test_the_visit_shows_its_address_masked_and_records_no_full_view(api: Any, world: Any) -> None:
    visit = _visit(world)
    response = api("liaison").get(f"/household-visits/{visit.pk}")
    assert response.status_code == 200
    assert ADDRESS not in response.content.decode()
    assert response.json()["address_masked"] == "沙头角演示小****"
    assert not AuditEvent.objects.filter(action="view_personal").exists()


def test_the_list_runs_a_fixed_number_of_queries(
    api: Any, world: Any, django_assert_num_queries: Any
) -> None:
    client = api("liaison")
    client.get("/household-visits")  # warm up: the token lookup and scope

    def page() -> int:
        with django_assert_num_queries(QUERIES):
            response = client.get("/household-visits", {"limit": 100})
        assert response.status_code == 200
        return len(response.json()["items"])

    for n in range(3):
        _visit(world, household=f"演示·第{n}家")
    assert page() == 3
    for n in range(3, 9):
        _visit(world, household=f"演示·第{n}家", representative=_rep("演示代表·林秀英"))
    assert page() == 9


# The token, its last-use stamp, the page of rows, the studio's area and which of the
# rows the token may change (one query each, whatever the number of rows), the call log.
QUERIES = 6


def test_the_openapi_document_lists_the_new_operations(api: Any) -> None:
    paths = ApiClient(None).get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/events"]) == {"get", "post"}
    assert set(paths["/api/v1/events/{event_id}/publish"]) == {"post"}
    assert set(paths["/api/v1/events/{event_id}/cancel"]) == {"post"}
    assert set(paths["/api/v1/household-visits"]) == {"get", "post"}
    assert set(paths["/api/v1/household-visits/{visit_id}"]) == {"get"}
    assert set(paths["/api/v1/household-visits/{visit_id}/correct"]) == {"post"}
    assert set(paths["/api/v1/household-visits/{visit_id}/withdraw"]) == {"post"}
    visit = paths["/api/v1/household-visits/{visit_id}/correct"]["post"]
    assert {"200", "404", "409", "422"} <= set(visit["responses"])
    docs = ApiClient(None).get("/docs").content.decode()
    assert "/api/v1/household-visits/{visit_id}/withdraw" in docs
