"""Every resource of the API for two roles in different streets: 沙头角街道's and 梅沙街道's
organisation departments each see exactly what their screens show them (the same
`for_user`), nothing of the other street, and the other's records are 404. Also the
screens' filters, masking of appointments, and constant query counts for lists."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from minyi.cases.models import Case
from minyi.cases.services import case_register
from minyi.duties.appointments import appointment_book
from minyi.duties.models import Appointment, Event
from minyi.org.models import HandlingUnit, OrgUnit
from minyi.people.models import Representative, User
from minyi.studios.models import Studio, StudioAssignment
from tests.cases.helpers import STUDIO, register, reporter_data

pytestmark = pytest.mark.django_db

MEISHA_STUDIO = "大梅沙社区党代表工作室"


def _event(studio: str, rep: str, days: int = 10) -> Event:
    start = timezone.now() + timedelta(days=days)
    event = Event.objects.create(
        studio=Studio.objects.get(name=studio),
        kind="reception",
        theme=f"{studio}接待日",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        capacity=5,
        state="published",
        published_at=timezone.now() - timedelta(days=8),
    )
    event.representatives.add(Representative.objects.get(name=rep))
    return event


@pytest.fixture
def two_streets(world: Any) -> dict[str, Any]:
    """Something of every resource in each street."""
    meisha = User.objects.get(username="meisha")
    sha_event = _event(STUDIO, "演示代表·陈明")
    mei_event = _event(MEISHA_STUDIO, "演示代表·黄海")
    HandlingUnit.objects.create(name="梅沙街道城市管理办公室", area=meisha.unit)
    return {
        "sha_case": register(),
        "mei_case": case_register(
            actor=meisha,
            studio=Studio.objects.get(name=MEISHA_STUDIO),
            representative=Representative.objects.get(name="演示代表·黄海"),
            data=reporter_data(summary="梅沙的停车问题"),
        ),
        "sha_event": sha_event,
        "mei_event": mei_event,
        "sha_appointment": appointment_book(
            event=sha_event,
            requester_kind="person",
            name="演示居民·王大爷",
            phone="13800005678",
            topic="噪声",
        ),
        "mei_appointment": appointment_book(
            event=mei_event,
            requester_kind="person",
            name="演示居民·赵阿姨",
            phone="13800005679",
            topic="停车",
        ),
    }


def _all_ids(client: Any, path: str, **params: Any) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, query)
        assert response.status_code == 200, response.content
        page = response.json()
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids


RESOURCES = [
    ("/cases", Case),
    ("/studios", Studio),
    ("/handling-units", HandlingUnit),
    ("/representatives", Representative),
    ("/events", Event),
    ("/appointments", Appointment),
]


@pytest.mark.parametrize(("path", "model"), RESOURCES)
def test_each_street_sees_exactly_its_own(
    api: Any, two_streets: dict[str, Any], path: str, model: Any
) -> None:
    seen = {}
    for username in ("shatoujiao", "meisha"):
        user = User.objects.get(username=username)
        ids = _all_ids(api(username), path)
        assert len(ids) == len(set(ids)), "a row repeated across pages"
        expected = set(model.objects.for_user(user).values_list("pk", flat=True))
        if model is Studio:
            expected = set(Studio.objects.for_user(user).active().values_list("pk", flat=True))
        if model is HandlingUnit:
            expected = set(
                HandlingUnit.objects.for_user(user).active().values_list("pk", flat=True)
            )
        assert set(ids) == expected, (username, path)
        assert ids, f"{username} should see something at {path}"
        seen[username] = set(ids)
    assert not seen["shatoujiao"] & seen["meisha"], path


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/cases/{}", "case"),
        ("/events/{}", "event"),
        ("/appointments/{}", "appointment"),
    ],
)
def test_the_other_streets_records_are_404(
    api: Any, two_streets: dict[str, Any], path: str, key: str
) -> None:
    sha, mei = api("shatoujiao"), api("meisha")
    own, other = two_streets[f"sha_{key}"].pk, two_streets[f"mei_{key}"].pk
    assert sha.get(path.format(own)).status_code == 200
    assert sha.get(path.format(other)).status_code == 404
    assert mei.get(path.format(other)).status_code == 200
    assert mei.get(path.format(own)).status_code == 404


def test_phones_read_as_on_the_pages(api: Any, two_streets: dict[str, Any]) -> None:
    """Stored as E.164; the studio's and a handling unit's phone came out so
    (+8675500000001) while a representative's and a booker's came as the pages show
    them: every phone in the API is now in the pages' national form."""
    from minyi.core.phones import display_phone

    sha = api("shatoujiao")
    studio = Studio.objects.get(name=STUDIO)
    assert studio.phone.startswith("+86")
    assert sha.get(f"/studios/{studio.pk}").json()["phone"] == display_phone(studio.phone)
    assert not display_phone(studio.phone).startswith("+")
    units = sha.get("/handling-units").json()["items"]
    assert units and all(not u["phone"].startswith("+86") for u in units)


def test_studio_and_representative_details_follow_scope(
    api: Any, two_streets: dict[str, Any]
) -> None:
    sha, mei = api("shatoujiao"), api("meisha")
    studio = Studio.objects.get(name=STUDIO)
    rep = Representative.objects.get(name="演示代表·陈明")
    detail = sha.get(f"/studios/{studio.pk}").json()
    assert detail["name"] == STUDIO and rep.pk in detail["representative_ids"]
    assert mei.get(f"/studios/{studio.pk}").status_code == 404
    assert sha.get(f"/representatives/{rep.pk}").json()["name"] == rep.name
    assert mei.get(f"/representatives/{rep.pk}").status_code == 404
    other = Representative.objects.get(name="演示代表·黄海")
    assert mei.get(f"/representatives/{other.pk}").status_code == 200
    assert sha.get(f"/representatives/{other.pk}").status_code == 404


def test_the_booker_is_masked_everywhere_but_the_recorded_full_view_for_the_studio(
    api: Any, two_streets: dict[str, Any]
) -> None:
    """As on the pages: name and phone masked in lists, details and every action's
    answer; in full only from POST …/reveal, to the studio's editors, each call recorded."""
    from minyi.audit.models import Action, AuditEvent
    from minyi.duties.models import AppointmentView

    appointment = two_streets["sha_appointment"]
    liaison = api("liaison")
    listed = liaison.get("/appointments").json()["items"]
    masked = "演*******"  # 演示居民·王大爷, as reporters' names are masked
    assert [(a["name"], a["phone_masked"], a["name_masked"]) for a in listed] == [
        (masked, True, True)
    ]
    assert "5678" in listed[0]["phone"] and "*" in listed[0]["phone"]
    # The 预约号 the resident quotes on the phone, as the pages print it.
    assert listed[0]["reference"] == appointment.reference_display
    detail = liaison.get(f"/appointments/{appointment.pk}")
    assert "王大爷" not in detail.content.decode() and "13800005678" not in detail.content.decode()
    assert detail.json()["revealable"] is True and detail.json()["phone_masked"] is True
    confirmed = liaison.post(f"/appointments/{appointment.pk}/confirm")
    assert confirmed.json()["name"] == masked and "*" in confirmed.json()["phone"]
    assert not AppointmentView.objects.exists()  # nothing seen in full, nothing recorded
    revealed = liaison.post(f"/appointments/{appointment.pk}/reveal")
    assert revealed.status_code == 200 and revealed["Cache-Control"] == "no-store"
    assert revealed.json() == {
        "appointment_id": appointment.pk,
        "requester_kind": "person",
        "name": "演示居民·王大爷",
        "phone": "13800005678",
    }
    view = AppointmentView.objects.get()
    assert (view.viewer.username, view.purpose) == ("liaison", "开放接口查看预约人完整信息")
    assert AuditEvent.objects.filter(
        action=Action.VIEW_PERSONAL, object_id=str(appointment.pk), actor_id=view.viewer.pk
    ).exists()
    # The representative reads the appointment but does not act on it: masked, no reveal.
    rep_view = api("rep").get(f"/appointments/{appointment.pk}").json()
    assert (rep_view["name"], rep_view["revealable"]) == (masked, False)
    assert api("rep").post(f"/appointments/{appointment.pk}/reveal").status_code == 404
    assert AppointmentView.objects.count() == 1


def test_filters_are_the_screens(api: Any, two_streets: dict[str, Any]) -> None:
    sha = api("shatoujiao")
    case = two_streets["sha_case"]
    assert _all_ids(sha, "/cases", q=case.number) == [case.pk]
    assert _all_ids(sha, "/cases", q="没有这样的摘要") == []
    assert _all_ids(sha, "/cases", held_by_me="true") == []
    assert _all_ids(sha, "/events", q=f"{STUDIO}接待日") == [two_streets["sha_event"].pk]
    assert _all_ids(sha, "/events", state="cancelled") == []
    # The topic, as the page searches: never the booker's name, in part or in full.
    assert _all_ids(sha, "/appointments", q="噪声") == [two_streets["sha_appointment"].pk]
    assert _all_ids(sha, "/appointments", q="王大爷") == []
    assert _all_ids(sha, "/appointments", q="演示居民·王大爷") == []
    booked = two_streets["sha_appointment"]
    typed = booked.reference_display.lower().replace("-", " ")
    assert _all_ids(sha, "/appointments", q=typed) == [booked.pk]
    assert _all_ids(sha, "/appointments", state="cancelled") == []
    assert _all_ids(sha, "/studios", q="不存在的工作室") == []
    reps = _all_ids(sha, "/representatives", q="陈明")
    assert reps == [Representative.objects.get(name="演示代表·陈明").pk]
    # A studio of the other street is not a choice: 422, as the page's form refuses it.
    other = Studio.objects.get(name=MEISHA_STUDIO)
    response = sha.get("/cases", {"studio": other.pk})
    assert response.status_code == 422 and "studio" in response.json()["fields"]
    # 本部门正在办理 is not offered to a handling unit: 422, not a silent full list.
    assert api("unit").get("/cases", {"held_by_me": "true"}).status_code == 422
    # A misspelt filter is refused rather than ignored.
    bad = sha.get("/events", {"stat": "held"})
    assert bad.status_code == 422 and "stat" in bad.json()["fields"]
    street = OrgUnit.objects.get(code="440308001")
    assert sha.get("/studios", {"street": street.pk}).status_code == 422
    # A filter given twice is refused: answering for one value would drop the other.
    twice = sha.get("/appointments", {"q": ["王大爷", "李阿姨"]})
    assert twice.status_code == 422 and twice.json()["fields"] == {"q": ["只能出现一次"]}


@pytest.mark.parametrize("path", [p for p, _ in RESOURCES])
def test_lists_run_a_constant_number_of_queries(
    api: Any, two_streets: dict[str, Any], path: str, django_assert_max_num_queries: Any
) -> None:
    client = api("city")
    client.get(path)  # warm up: the token lookup and scope
    for _ in range(3):
        register(summary="再来一件")
        _event(STUDIO, "演示代表·陈明", days=20)
    with django_assert_max_num_queries(14):
        assert client.get(path, {"limit": 100}).status_code == 200


def test_appointment_actions_are_the_studios(api: Any, two_streets: dict[str, Any]) -> None:
    own, other = two_streets["sha_appointment"], two_streets["mei_appointment"]
    liaison = api("liaison")
    confirmed = liaison.post(f"/appointments/{own.pk}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    again = liaison.post(f"/appointments/{own.pk}/confirm")
    assert again.status_code == 409 and "已确认" in again.json()["message"]
    assert liaison.post(f"/appointments/{other.pk}/confirm").status_code == 404
    assert api("rep").post(f"/appointments/{own.pk}/cancel", {"reason": "x"}).status_code == 404
    blank = liaison.post(f"/appointments/{own.pk}/cancel", {"reason": "  "})
    assert blank.status_code == 422 and "reason" in blank.json()["fields"]
    cancelled = liaison.post(f"/appointments/{own.pk}/cancel", {"reason": "本人来电取消"})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert Appointment.objects.get(pk=own.pk).cancel_reason == "本人来电取消"


def test_a_studio_lists_each_period_and_those_working_once(
    api: Any, two_streets: dict[str, Any]
) -> None:
    """As the studio page does: a representative who left and came back is working
    here once, and has both periods (tests/studios/test_assignment_periods.py)."""
    studio = Studio.objects.get(name=STUDIO)
    rep = Representative.objects.get(name="演示代表·陈明")
    StudioAssignment.objects.filter(studio=studio, representative=rep).update(
        since=date(2024, 3, 1), active=False, until=date(2025, 6, 30)
    )
    StudioAssignment.objects.create(studio=studio, representative=rep, since=date(2025, 9, 1))
    detail = api("shatoujiao").get(f"/studios/{studio.pk}").json()
    assert detail["representative_ids"].count(rep.pk) == 1
    theirs = [p for p in detail["periods"] if p["representative_id"] == rep.pk]
    assert theirs == [
        {"representative_id": rep.pk, "since": "2025-09-01", "until": None, "working": True},
        {
            "representative_id": rep.pk,
            "since": "2024-03-01",
            "until": "2025-06-30",
            "working": False,
        },
    ]
