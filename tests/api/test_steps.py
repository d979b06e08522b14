"""Every workflow step over the API goes through the page's form, permission rule and
service: a case walked from registration to closing, and bad steps refused with a
Chinese message and nothing saved."""

from __future__ import annotations

from typing import Any

import pytest

from minyi.cases.models import Case, CaseStep
from minyi.org.models import HandlingUnit
from minyi.people.models import User
from tests.cases.helpers import register
from tests.core.helpers import client_for

pytestmark = pytest.mark.django_db


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content.decode()
    return response.json()


def _refused(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content.decode()
    data = response.json()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in data["message"])
    if field:
        assert field in data["fields"], data
    return data


def _with_unit(liaison: Any, street: Any) -> tuple[Case, str]:
    """A case registered, sent by the studio and referred by the street to its unit."""
    case = register()
    path = f"/cases/{case.pk}"
    _ok(liaison.post(f"{path}/send"))
    handling = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    _ok(street.post(f"{path}/refer", {"handling_unit_id": handling.pk}))
    return case, path


def test_a_case_walked_through_every_step(api: Any) -> None:
    liaison, rep, street, unit = api("liaison"), api("rep"), api("shatoujiao"), api("unit")
    case = register()
    path = f"/cases/{case.pk}"
    _ok(rep.post(f"{path}/confirm", {"who": "representative"}))
    _ok(liaison.post(f"{path}/note", {"text": "已电话告知反映人登记编号"}))
    assert _ok(liaison.post(f"{path}/send"))["state"] == "at_department"
    _ok(
        street.post(
            f"{path}/consult", {"held_on": "2026-03-06", "attendees": "三方", "minutes": "纪要"}
        )
    )
    handling = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    detail = _ok(street.post(f"{path}/refer", {"handling_unit_id": handling.pk}))
    assert detail["state"] == "with_unit" and detail["due_on"]
    assert "answer" in _ok(unit.get(path))["permitted_actions"]
    _ok(unit.post(f"{path}/plan", {"plan": "本周内修复"}))
    _ok(street.post(f"{path}/urge", {"note": "请尽快"}))
    assert _ok(unit.post(f"{path}/extension", {"reason": "需协调"}))["extension_requested"]
    decided = _ok(rep.post(f"{path}/extension/decide", {"consent": True, "note": "同意"}))
    assert not decided["extension_requested"]
    assert _ok(unit.post(f"{path}/answer", {"text": "已修复。"}))["state"] == "answered"
    reopened = _ok(street.post(f"{path}/evaluate", {"rating": "dissatisfied", "reopen": True}))
    assert reopened["state"] == "with_unit" and reopened["reopen_count"] == 1
    _ok(unit.post(f"{path}/answer", {"text": "已重新施工。", "result": "已解决"}))
    closed = _ok(
        street.post(f"{path}/evaluate", {"rating": "satisfied", "reporter_confirmed": True})
    )
    assert closed["state"] == "closed" and closed["final_rating"] == "satisfied"
    actions = list(CaseStep.objects.filter(case=case).values_list("action", flat=True))
    for action in ("send_to_street", "refer", "plan", "urge", "request_extension"):
        assert action in actions
    assert actions.count("answer") == 2


def test_permitted_actions_offer_an_extension_step_only_when_it_can_be_taken(api: Any) -> None:
    """As the page's forms: a decision only on a pending request, a request only while
    none is pending and the limit is not yet 30 working days."""
    liaison, rep, street, unit = api("liaison"), api("rep"), api("shatoujiao"), api("unit")
    _, path = _with_unit(liaison, street)
    decide = {"consent_extension", "refuse_extension"}
    assert "request_extension" in _ok(unit.get(path))["permitted_actions"]
    assert not decide & set(_ok(rep.get(path))["permitted_actions"])
    assert not decide & set(_ok(street.get(path))["permitted_actions"])
    _ok(unit.post(f"{path}/extension", {"reason": "需协调"}))
    assert "request_extension" not in _ok(unit.get(path))["permitted_actions"]
    assert decide <= set(_ok(rep.get(path))["permitted_actions"])
    _ok(rep.post(f"{path}/extension/decide", {"consent": True}))
    assert "request_extension" not in _ok(unit.get(path))["permitted_actions"]
    _refused(unit.post(f"{path}/extension", {"reason": "再次延期"}), 409)
    assert not decide & set(_ok(rep.get(path))["permitted_actions"])


def test_a_department_records_the_consent_for_the_representative_saying_how(api: Any) -> None:
    """The holding department may record the representative's consent, but must say how
    it was given (422 on `note` without it, nothing saved)."""
    liaison, street, unit = api("liaison"), api("shatoujiao"), api("unit")
    case, path = _with_unit(liaison, street)
    _ok(unit.post(f"{path}/extension", {"reason": "需协调"}))
    _refused(street.post(f"{path}/extension/decide", {"consent": True}), 422, "note")
    assert _ok(street.get(path))["extension_requested"]
    _ok(street.post(f"{path}/extension/decide", {"consent": True, "note": "书面同意"}))
    assert Case.objects.get(pk=case.pk).due_days == 30
    step = CaseStep.objects.get(case=case, action="consent_extension")
    assert step.text.startswith("（由") and "代为记录党代表的同意）" in step.text


def test_permitted_actions_offer_each_confirmation_once(api: Any) -> None:
    liaison = api("liaison")
    case = register()
    path = f"/cases/{case.pk}"
    assert "confirm_reporter" in _ok(liaison.get(path))["permitted_actions"]
    _ok(liaison.post(f"{path}/confirm", {"who": "reporter"}))
    actions = _ok(liaison.get(path))["permitted_actions"]
    assert "confirm_reporter" not in actions and "confirm_representative" in actions
    _refused(liaison.post(f"{path}/confirm", {"who": "reporter"}), 409)
    _ok(liaison.post(f"{path}/confirm", {"who": "representative"}))
    assert not {"confirm_reporter", "confirm_representative"} & set(
        _ok(liaison.get(path))["permitted_actions"]
    )


def test_no_confirmation_is_offered_or_taken_once_the_case_has_ended(api: Any) -> None:
    """A case closed after its handling, or carried forward, has ended: its form is no
    longer confirmed, and `permitted_actions` does not offer what would be refused."""
    liaison, street, unit = api("liaison"), api("shatoujiao"), api("unit")
    confirmations = {"confirm_reporter", "confirm_representative"}
    case, path = _with_unit(liaison, street)
    _ok(unit.post(f"{path}/answer", {"text": "已修复。"}))
    closed = _ok(street.post(f"{path}/evaluate", {"rating": "satisfied"}))
    assert closed["state"] == "closed"
    assert not confirmations & set(_ok(liaison.get(path))["permitted_actions"])
    refused = _refused(liaison.post(f"{path}/confirm", {"who": "representative"}), 409)
    assert refused["message"] == "本件已办结，不能再记录“党代表确认”。"
    assert Case.objects.get(pk=case.pk).representative_confirmed_at is None

    carried = register()
    _ok(liaison.post(f"/cases/{carried.pk}/carry-forward", {"form": "建议"}))
    assert not confirmations & set(_ok(liaison.get(f"/cases/{carried.pk}"))["permitted_actions"])
    _refused(liaison.post(f"/cases/{carried.pk}/confirm", {"who": "reporter"}), 409)


def test_no_escalation_is_offered_above_the_city_committee(api: Any) -> None:
    """The city committee is the top of the chain: neither the page nor the API offers
    a step that could only be refused (市委已是最高一级)."""
    case = register()
    path = f"/cases/{case.pk}"
    _ok(api("liaison").post(f"{path}/send"))
    for who in ("shatoujiao", "yantian", "city"):
        assert "escalate" in _ok(api(who).get(path))["permitted_actions"]
        _ok(api(who).post(f"{path}/escalate", {"reason": "超出本级职权"}))
    city = api("city")
    detail = _ok(city.get(path))
    assert detail["holder_level"] == "city_committee"
    assert "refer" in detail["permitted_actions"]
    assert "escalate" not in detail["permitted_actions"]
    page = client_for(User.objects.get(username="city")).get(case.get_absolute_url())
    assert "refer" in page.context["step_forms"]
    assert "escalate" not in page.context["step_forms"]


def test_return_escalate_and_carry_forward(api: Any) -> None:
    liaison, street, unit = api("liaison"), api("shatoujiao"), api("unit")
    handling = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    case = register()
    path = f"/cases/{case.pk}"
    liaison.post(f"{path}/send")
    street.post(f"{path}/refer", {"handling_unit_id": handling.pk})
    returned = _ok(unit.post(f"{path}/return", {"reason": "属区住建局职责"}))
    assert returned["state"] == "at_department" and returned["handling_unit_id"] is None
    escalated = _ok(street.post(f"{path}/escalate", {"reason": "超出街道权限"}))
    assert escalated["holder_level"] == "district"
    # The street no longer holds it; the district does.
    _refused(street.post(f"{path}/escalate", {"reason": "再报"}), 404)
    other = register()
    carried = _ok(liaison.post(f"/cases/{other.pk}/carry-forward", {"form": "建议"}))
    assert carried["state"] == "carried_forward"


def test_bad_steps_are_refused_and_change_nothing(api: Any) -> None:
    liaison, street = api("liaison"), api("shatoujiao")
    case = register()
    path = f"/cases/{case.pk}"
    _refused(liaison.post(f"{path}/note", {"text": "   "}), 422, "text")
    _refused(liaison.post(f"{path}/carry-forward", {"form": "请愿"}), 422)
    liaison.post(f"{path}/send")
    _refused(street.post(f"{path}/escalate", {"reason": ""}), 422, "reason")
    _refused(
        street.post(
            f"{path}/consult", {"held_on": "2999-01-01", "attendees": "三方", "minutes": "纪要"}
        ),
        422,
        "held_on",
    )
    stale = _refused(street.post(f"{path}/escalate", {"reason": "理由", "version": 1}), 409)
    assert stale["code"] == "case_changed"
    # A step the state does not allow now: 409 with the reason.
    state = _refused(street.post(f"{path}/urge", {}), 409)
    assert state["code"] == "transition_not_allowed"
    case.refresh_from_db()
    assert case.state == "at_department" and case.version == 2
    assert Case.objects.get(pk=case.pk).holder_level == "street"
