"""The last resort for pages that do not catch it themselves: a choice deleted by
someone else before the commit is a 409 page in Chinese, not a 500, and the API answers
409 `reference_gone`; other integrity errors are not mistaken for it. Transactional:
the foreign keys are checked at COMMIT."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from psycopg import errors as psycopg_errors

from minyi.core.integrity import ReferenceGoneMiddleware, is_foreign_key_violation, is_transient
from minyi.people.models import Representative, User
from minyi.studios.forms import AssignmentForm
from minyi.studios.models import Studio, StudioAssignment
from tests.cases.helpers import STUDIO
from tests.core.helpers import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_representative_deleted_before_their_assignment_commits_is_a_409_page(
    world: Any, monkeypatch: Any
) -> None:
    demo = Representative.objects.get(name="演示代表·陈明")
    rep = Representative.objects.create(
        name="临时代表·吴二",
        level=demo.level,
        category=demo.category,
        unit=demo.unit,
        delegation=demo.delegation,
        group=demo.group,
        employer="演示单位",
    )
    original = AssignmentForm.is_valid

    def validated_then_deleted(self: AssignmentForm) -> bool:
        valid = original(self)
        Representative.objects.filter(pk=rep.pk).delete()  # another user, committed
        return valid

    monkeypatch.setattr(AssignmentForm, "is_valid", validated_then_deleted)
    studio = Studio.objects.get(name=STUDIO)

    response = client_for(User.objects.get(username="admin")).post(
        reverse("studios:assignment_add", args=[studio.pk]), {"representative": rep.pk}
    )

    assert response.status_code == 409, response.content.decode()[-3000:]
    assert "刚被他人删除或停用，本次提交没有保存" in response.content.decode()
    assert not StudioAssignment.objects.filter(representative_id=rep.pk).exists()


def test_other_integrity_errors_are_a_409_page_of_their_own(world: Any) -> None:
    studio = Studio.objects.get(name=STUDIO)
    demo = Representative.objects.get(name="演示代表·陈明")
    with pytest.raises(IntegrityError) as caught:
        StudioAssignment.objects.create(studio=studio, representative=demo)  # a second pair
    assert not is_foreign_key_violation(caught.value)
    request = RequestFactory().post("/")
    response = ReferenceGoneMiddleware(lambda r: HttpResponse()).process_exception(
        request, caught.value
    )
    assert response is not None and response.status_code == 409
    page = response.content.decode()
    assert "与他人同时提交的内容冲突，没有保存" in page and "刚被他人删除" not in page


def test_errors_other_than_integrity_errors_are_left_alone() -> None:
    request = RequestFactory().get("/")
    middleware = ReferenceGoneMiddleware(lambda r: HttpResponse())
    assert middleware.process_exception(request, ValueError("x")) is None


def _foreign_key_violation() -> IntegrityError:
    studio = Studio.objects.get(name=STUDIO)
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        StudioAssignment.objects.create(studio=studio, representative_id=2_000_000_000)
    return caught.value


def test_a_reference_to_a_missing_row_is_recognised_at_commit(world: Any) -> None:
    exc = _foreign_key_violation()
    assert is_foreign_key_violation(exc)
    assert not StudioAssignment.objects.filter(representative_id=2_000_000_000).exists()


def test_the_api_answers_409_reference_gone_for_endpoints_that_do_not_catch_it(
    world: Any,
) -> None:
    from minyi.api.api import _integrity

    response = _integrity(RequestFactory().post("/api/v1/x"), _foreign_key_violation())
    assert response.status_code == 409
    body = json.loads(response.content)
    assert body["code"] == "reference_gone" and "刚被他人删除或停用" in body["message"]


def _aborted(cause: Exception) -> OperationalError:
    exc = OperationalError(str(cause))
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    "cause",
    [
        psycopg_errors.DeadlockDetected("deadlock detected"),
        psycopg_errors.SerializationFailure("could not serialize access"),
        psycopg_errors.LockNotAvailable("canceling statement due to lock timeout"),
        sqlite3.OperationalError("database is locked"),
    ],
    ids=lambda cause: type(cause).__name__,
)
def test_a_transaction_the_database_aborted_is_a_503_to_try_again(cause: Exception) -> None:
    exc = _aborted(cause)
    assert is_transient(exc)
    request = RequestFactory().post("/cases/new/")
    response = ReferenceGoneMiddleware(lambda r: HttpResponse()).process_exception(request, exc)
    assert response is not None and response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "系统正忙，本次提交没有保存" in response.content.decode()

    from minyi.api.api import _operational

    answer = _operational(RequestFactory().post("/api/v1/cases"), exc)
    assert answer.status_code == 503 and json.loads(answer.content)["code"] == "busy"


def test_other_operational_errors_stay_server_errors() -> None:
    exc = _aborted(psycopg_errors.UndefinedTable("relation does not exist"))
    assert not is_transient(exc)
    request = RequestFactory().get("/")
    assert ReferenceGoneMiddleware(lambda r: HttpResponse()).process_exception(request, exc) is None
