"""The API, when a row the request names is deleted between the form's read and the
commit: 409 `reference_gone` with a Chinese message, nothing saved (no case, no
Idempotency-Key, no serial taken), so the caller may correct and retry with the same key.
Transactional: the foreign keys are checked at COMMIT (tests/cases/test_deleted_choices)."""

from __future__ import annotations

from typing import Any

import pytest

from minyi.api import cases as api_cases
from minyi.api.models import IdempotencyKey
from minyi.cases.models import Case, CaseNumberCounter
from minyi.cases.states import Action, CaseState
from minyi.people.models import Representative
from tests.api.test_api import _assert_error, _body
from tests.cases.helpers import register
from tests.cases.test_deleted_choices import (
    _case_audit_rows,
    _delete_representative,
    _deleted_first,
    _deleted_inside,
    _new_representative,
    _with_unit,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_registration_naming_a_deleted_representative_is_409_and_saves_nothing(
    api: Any, monkeypatch: Any
) -> None:
    client = api("liaison")
    rep = _new_representative()
    _deleted_first(monkeypatch, api_cases, "case_register", lambda: _delete_representative(rep))
    audit_before = _case_audit_rows()

    response = client.post("/cases", _body(representative_id=rep.pk), **{"Idempotency-Key": "k1"})

    data = _assert_error(response, 409)
    assert data["code"] == "reference_gone"
    assert "刚被删除或停用" in data["message"]
    assert not Case.objects.exists() and not IdempotencyKey.objects.exists()
    assert not CaseNumberCounter.objects.filter(last_serial__gt=0).exists()
    assert _case_audit_rows() == audit_before
    monkeypatch.undo()
    # The key was not spent: the corrected request goes through under it.
    demo = Representative.objects.get(name="演示代表·陈明")
    retry = client.post("/cases", _body(representative_id=demo.pk), **{"Idempotency-Key": "k1"})
    assert retry.status_code == 201, retry.content
    assert Case.objects.get().serial == 1
    assert register().serial == 2


def test_a_referral_to_a_unit_deleted_meanwhile_is_409_and_saves_nothing(
    api: Any, monkeypatch: Any
) -> None:
    case, unit = _with_unit()
    steps, audit_before = case.steps.count(), _case_audit_rows()
    _deleted_inside(monkeypatch, unit)

    response = api("shatoujiao").post(
        f"/cases/{case.pk}/refer", {"handling_unit_id": unit.pk, "version": case.version}
    )

    data = _assert_error(response, 409)
    assert data["code"] == "reference_gone"
    assert "所选的承办单位刚被删除或停用" in data["message"]
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.state == CaseState.AT_DEPARTMENT and fresh.handling_unit_id is None
    assert fresh.version == case.version and fresh.steps.count() == steps
    assert not fresh.steps.filter(action=Action.REFER).exists()
    assert _case_audit_rows() == audit_before
