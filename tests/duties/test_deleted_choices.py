"""An event form naming a representative who is deleted before the event commits: the
form comes back with what was typed and a Chinese message; no event is saved. Deleted
before the service's transaction, the service's own check of the assignments refuses;
deleted after it (a window PostgreSQL leaves open), the foreign key refuses at COMMIT.
Transactional: the foreign keys are checked at COMMIT (tests/cases/test_deleted_choices)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from django.db import connection
from django.urls import reverse

from minyi.duties import events as services
from minyi.duties.models import Event
from minyi.people.models import Representative, User
from minyi.studios.models import Studio, StudioAssignment
from tests.cases.helpers import STUDIO
from tests.cases.test_deleted_choices import (
    _delete_representative,
    _deleted_first,
    _new_representative,
)
from tests.core.helpers import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def _post(rep: Any) -> Any:
    return client_for(User.objects.get(username="liaison")).post(
        reverse("duties:event_create"),
        {
            "studio": Studio.objects.get(name=STUDIO).pk,
            "kind": "reception",
            "theme": "听取加装电梯意见",
            "starts_at": "2030-03-04T09:00",
            "ends_at": "2030-03-04T12:00",
            "capacity": 5,
            "representatives": [rep.pk],
            "submission_key": str(uuid4()),
        },
    )


def test_a_representative_deleted_before_the_event_is_saved_is_refused(
    world: Any, monkeypatch: Any
) -> None:
    rep = _new_representative()
    _deleted_first(monkeypatch, services, "event_create", lambda: _delete_representative(rep))

    response = _post(rep)

    assert response.status_code == 400
    assert "未进驻" in str(response.context["form"].errors)
    assert "听取加装电梯意见" in response.content.decode()
    assert not Event.objects.exists()


def test_a_representative_deleted_while_the_event_is_saved_is_refused(
    world: Any, monkeypatch: Any
) -> None:
    rep = _new_representative()
    original = services._apply

    def deleted_after_the_checks(*args: Any, **kwargs: Any) -> Any:
        with connection.cursor() as cursor:
            for model, column in ((StudioAssignment, "representative_id"), (Representative, "id")):
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"DELETE FROM {table} WHERE {column} = %s", [rep.pk])
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "_apply", deleted_after_the_checks)

    response = _post(rep)

    assert response.status_code == 400
    text = response.content.decode()
    assert "所选的工作室或党代表刚被删除或停用，活动没有保存" in text
    assert "听取加装电梯意见" in text
    assert not Event.objects.exists()
