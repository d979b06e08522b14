"""Writing events over the API goes through the event page's form and the duties
service: a draft for a studio the token may edit, its publication a week ahead (or
with a reason, SM 10), its cancellation; out of scope is 404, bad input 422 with a
Chinese message and nothing saved, a step the event's state no longer allows 409."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from minyi.audit.models import AuditEvent
from minyi.duties.models import Event, EventState
from minyi.people.models import Representative
from minyi.studios.models import Studio
from tests.api.conftest import refused

pytestmark = pytest.mark.django_db

STUDIO = "沙头角社区党代表工作室"


def _body(days: float = 10, **overrides: Any) -> dict[str, Any]:
    start = (timezone.now() + timedelta(days=days)).replace(microsecond=0)
    body = {
        "studio_id": Studio.objects.get(name=STUDIO).pk,
        "kind": "reception",
        "theme": "加装电梯接待日",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        "representative_ids": [Representative.objects.get(name="演示代表·陈明").pk],
        "capacity": 5,
    }
    body.update(overrides)
    return body


def _audited_by(action: str, event_id: int) -> set[str]:
    rows = AuditEvent.objects.filter(action=action, object_type="duties.event", object_id=event_id)
    return {row.actor_name for row in rows}


def test_the_liaison_drafts_and_publishes_an_event_with_the_pages_audit(api: Any) -> None:
    liaison = api("liaison")
    created = liaison.post("/events", _body())
    assert created.status_code == 201, created.content.decode()
    event = created.json()
    assert event["state"] == "planned" and event["published_at"] is None
    assert event["representative_ids"] == [Representative.objects.get(name="演示代表·陈明").pk]
    # The page's default: no place given is the studio's address.
    assert event["place"] == Studio.objects.get(name=STUDIO).address
    assert _audited_by("create", event["id"]) == {"liaison"}

    published = liaison.post(f"/events/{event['id']}/publish")
    assert published.status_code == 200, published.content.decode()
    assert published.json()["state"] == "published" and published.json()["late"] is False
    assert _audited_by("update", event["id"]) == {"liaison"}
    # What the page reads back is what the API wrote.
    assert api("shatoujiao").get(f"/events/{event['id']}").json()["state"] == "published"


def test_less_than_a_week_ahead_needs_a_reason_and_is_flagged_late(api: Any) -> None:
    street = api("shatoujiao")
    event_id = street.post("/events", _body(days=3)).json()["id"]
    late = refused(street.post(f"/events/{event_id}/publish", {}), 422, "late_reason")
    assert "不足7天" in late["message"]
    assert Event.objects.get(pk=event_id).state == EventState.PLANNED
    published = street.post(f"/events/{event_id}/publish", {"late_reason": "台风后补开"})
    assert published.status_code == 200
    assert published.json()["late"] is True and published.json()["late_reason"] == "台风后补开"


def test_a_step_the_event_s_state_no_longer_allows_is_409_with_the_reason(api: Any) -> None:
    """Events carry no version: a second client acting on what it read before is told by
    the state check under the event's lock, as the page is."""
    liaison = api("liaison")
    event_id = liaison.post("/events", _body()).json()["id"]
    assert liaison.post(f"/events/{event_id}/publish").status_code == 200
    again = refused(liaison.post(f"/events/{event_id}/publish"), 409)
    assert again["code"] == "transition_not_allowed" and "已预告" in again["message"]
    refused(liaison.post(f"/events/{event_id}/cancel", {"reason": "  "}), 422, "reason")
    assert Event.objects.get(pk=event_id).state == EventState.PUBLISHED
    cancelled = liaison.post(f"/events/{event_id}/cancel", {"reason": "台风预警"})
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["cancelled_reason"] == "台风预警"
    assert (
        "已取消"
        in refused(liaison.post(f"/events/{event_id}/cancel", {"reason": "x"}), 409)["message"]
    )
    refused(liaison.post(f"/events/{event_id}/publish"), 409)


def test_only_those_who_may_on_the_pages_may_by_api(api: Any, other_liaison: Any) -> None:
    event_id = api("liaison").post("/events", _body()).json()["id"]
    # Another studio's liaison, the representative and a handling unit edit no event of
    # 沙头角's studio: 404, as on the event page, and nothing changes.
    for client in (other_liaison, api("rep"), api("unit"), api("meisha")):
        assert client.post(f"/events/{event_id}/publish").status_code == 404
        assert client.post(f"/events/{event_id}/cancel", {"reason": "x"}).status_code == 404
    assert Event.objects.get(pk=event_id).state == EventState.PLANNED
    # A role that edits no studio cannot create at all (404, as the page); another
    # studio's liaison may create, but 沙头角's studio is not among its choices (422).
    assert api("rep").post("/events", _body()).status_code == 404
    assert api("unit").post("/events", _body()).status_code == 404
    refused(other_liaison.post("/events", _body()), 422, "studio_id")
    assert Event.objects.count() == 1


HUANG = "演示代表·黄海"  # assigned to 大梅沙's studio, not 沙头角's


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_at": (timezone.now() + timedelta(days=9)).isoformat()}, "ends_at"),
        ({"representative_ids": HUANG}, "representative_ids"),
        ({"kind": "party"}, "kind"),
        ({"capacity": -1}, "capacity"),
        ({"theme": "主" * 201}, "theme"),
        ({"theme": "a\x00b"}, "theme"),
        ({"starts_at": "9999-12-31T23:00:00+00:00"}, "starts_at"),
        (
            {
                "starts_at": "2030-03-04T09:00:00+08:00",
                "ends_at": "2030-03-04T12:00:00+08:00",
                "activity_month": True,
            },
            "activity_month",
        ),
    ],
)
def test_bad_input_is_refused_in_chinese_and_nothing_is_saved(
    api: Any, overrides: dict[str, Any], field: str
) -> None:
    body = _body(**overrides)
    if body["representative_ids"] == HUANG:
        body["representative_ids"] = [Representative.objects.get(name=HUANG).pk]
    refused(api("liaison").post("/events", body), 422, field)
    assert not Event.objects.exists()
    assert not AuditEvent.objects.filter(object_type="duties.event").exists()


def test_an_overlapping_event_of_the_same_representative_isrefused(api: Any) -> None:
    liaison = api("liaison")
    assert liaison.post("/events", _body()).status_code == 201
    clash = refused(liaison.post("/events", _body(theme="另一场")), 422, "starts_at")
    assert "时间重叠" in clash["message"]
    assert Event.objects.count() == 1


def _edit(client: Any, event: dict[str, Any], **changes: Any) -> Any:
    body = _body(**changes)
    body["version"] = event["version"]
    return client.post(f"/events/{event['id']}/edit", body)


def test_an_edit_replaces_the_event_with_the_pages_rules_and_audit(api: Any) -> None:
    liaison = api("liaison")
    event = liaison.post("/events", _body()).json()
    edited = _edit(liaison, event, theme="加装电梯第二次接待日", capacity=8)
    assert edited.status_code == 200, edited.content.decode()
    assert edited.json()["theme"] == "加装电梯第二次接待日" and edited.json()["capacity"] == 8
    assert edited.json()["version"] != event["version"]
    stored = Event.objects.get(pk=event["id"])
    assert (stored.theme, stored.capacity) == ("加装电梯第二次接待日", 8)
    assert _audited_by("update", event["id"]) == {"liaison"}
    # The version read back from the list is the one the edit accepts.
    (listed,) = liaison.get("/events").json()["items"]
    again = _edit(liaison, listed, theme="第三次")
    assert again.status_code == 200, again.content.decode()


def test_an_edit_of_an_event_changed_since_it_was_read_is_409_and_changes_nothing(
    api: Any,
) -> None:
    liaison, street = api("liaison"), api("shatoujiao")
    event = liaison.post("/events", _body()).json()
    assert _edit(street, event, theme="街道改的主题").status_code == 200
    stale = refused(_edit(liaison, event, theme="联络员的旧页面"), 409)
    assert stale["code"] == "event_changed" and "已被他人修改" in stale["message"]
    assert Event.objects.get(pk=event["id"]).theme == "街道改的主题"


def test_an_edit_is_refused_as_on_the_page_out_of_scope_bad_or_too_late(
    api: Any, other_liaison: Any
) -> None:
    liaison = api("liaison")
    event = liaison.post("/events", _body()).json()
    for client in (other_liaison, api("rep"), api("unit")):
        assert _edit(client, event, theme="越权").status_code == 404
    refused(_edit(liaison, event, capacity=-1), 422, "capacity")
    refused(liaison.post(f"/events/{event['id']}/edit", _body()), 422)  # no version
    assert liaison.post(f"/events/{event['id']}/cancel", {"reason": "下雨"}).status_code == 200
    cancelled = liaison.get(f"/events/{event['id']}").json()
    assert "不能修改" in refused(_edit(liaison, cancelled, theme="取消后"), 409)["message"]
    assert Event.objects.get(pk=event["id"]).theme == "加装电梯接待日"
