"""A row the user chose is deleted by someone else between the form's read and the write
(registration no longer looks its references up again, minyi.cases.services
_READ_WITH_THE_REQUEST): the database's foreign key refuses the write at COMMIT. The
user is told in Chinese, what they typed is shown again, and nothing is saved: no case,
no timeline row, no audit row, no serial taken (the next case gets the next number), no
uploaded file left in storage.

Transactional tests: the foreign keys are checked when the outermost transaction
commits, which a test wrapped in a transaction never does."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection
from django.urls import reverse

from minyi.audit.models import AuditEvent
from minyi.cases import services
from minyi.cases.models import Case, CaseNumberCounter, CaseStep
from minyi.cases.states import Action, CaseState
from minyi.core.integrity import is_foreign_key_violation
from minyi.org.models import HandlingUnit
from minyi.people.models import Representative, User
from minyi.studios.models import Studio, StudioAssignment
from tests.cases.helpers import STUDIO, register
from tests.cases.test_pages import form_data
from tests.core.helpers import client_for

pytestmark = pytest.mark.django_db(transaction=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CASE_TYPES = ("cases.case", "cases.casestep", "cases.casenumbercounter", "cases.studiocategory")


def _case_audit_rows() -> int:
    return AuditEvent.objects.filter(object_type__in=CASE_TYPES).count()


def _new_representative() -> Representative:
    """A representative at the studio whom nothing else refers to, so that an
    administrator can delete them."""
    demo = Representative.objects.get(name="演示代表·陈明")
    rep = Representative.objects.create(
        name="临时代表·周一",
        level=demo.level,
        category=demo.category,
        unit=demo.unit,
        delegation=demo.delegation,
        group=demo.group,
        employer="演示单位",
    )
    StudioAssignment.objects.create(studio=Studio.objects.get(name=STUDIO), representative=rep)
    return rep


def _delete_representative(rep: Representative) -> None:
    StudioAssignment.objects.filter(representative=rep).delete()
    Representative.objects.filter(pk=rep.pk).delete()


def _deleted_first(monkeypatch: Any, target: Any, name: str, delete: Any) -> None:
    """Run `delete` (committed: another user's request) just before `target.name` runs,
    i.e. after the form has read and validated the choice."""
    original = getattr(target, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        delete()
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapped)


def test_a_deleted_representative_is_reported_and_the_form_kept(world: Any, monkeypatch) -> None:
    liaison = User.objects.get(username="liaison")
    register()  # serial 1
    rep = _new_representative()
    _deleted_first(monkeypatch, services, "case_register", lambda: _delete_representative(rep))
    audit_before = _case_audit_rows()

    scan = SimpleUploadedFile("scan.png", PNG, content_type="image/png")
    response = client_for(liaison).post(
        reverse("cases:create"),
        form_data(representative=rep.pk, summary="楼道堆放杂物", reporter_name="演示居民·赵大姐")
        | {"attachments": [scan]},
    )

    assert response.status_code == 409
    text = response.content.decode()
    assert "刚被删除或停用" in text and "请重新选择后再提交" in text
    form = response.context["form"]
    assert "representative" in form.errors  # the choice that is gone is marked
    assert form["summary"].value() == "楼道堆放杂物"
    assert "演示居民·赵大姐" in text and "楼道堆放杂物" in text
    assert Case.objects.count() == 1
    assert not CaseStep.objects.exclude(case__serial=1).exists()
    assert _case_audit_rows() == audit_before
    assert CaseNumberCounter.objects.get().last_serial == 1
    assert "附件需要重新选择" in text
    assert not [name for _, _, names in os.walk(settings.MEDIA_ROOT) for name in names]
    monkeypatch.undo()
    assert register().serial == 2


def test_a_deleted_unit_complained_of_is_reported_too(world: Any, monkeypatch) -> None:
    liaison = User.objects.get(username="liaison")
    studio = Studio.objects.select_related("unit").get(name=STUDIO)
    assert studio.unit.street_id is not None
    unit = HandlingUnit.objects.create(name="临时承办单位", area_id=studio.unit.street_id)
    _deleted_first(
        monkeypatch,
        services,
        "case_register",
        lambda: HandlingUnit.objects.filter(pk=unit.pk).delete(),
    )

    response = client_for(liaison).post(reverse("cases:create"), form_data(about_unit=unit.pk))

    assert response.status_code == 409, response.context["form"].errors
    assert "about_unit" in response.context["form"].errors
    assert (
        not Case.objects.exists()
        and not CaseNumberCounter.objects.filter(last_serial__gt=0).exists()
    )
    monkeypatch.undo()
    assert register().serial == 1


def test_other_integrity_errors_are_not_taken_for_a_deleted_choice(world: Any) -> None:
    case = register()
    with pytest.raises(IntegrityError) as caught:
        CaseNumberCounter.objects.create(prefix=case.number_prefix, year=case.year)
    assert not is_foreign_key_violation(caught.value)


def _with_unit() -> tuple[Case, HandlingUnit]:
    case = services.case_send_to_street(case=register(), actor=User.objects.get(username="liaison"))
    assert case.holder_department is not None
    unit = HandlingUnit.objects.create(name="临时承办单位", area=case.holder_department.unit)
    return case, unit


def _deleted_inside(monkeypatch: Any, unit: HandlingUnit) -> None:
    """The unit is gone after case_refer checked it and before the commit (PostgreSQL
    allows that window; SQLite's write lock does not, so it is simulated on the same
    connection, where the foreign key fails at COMMIT all the same)."""
    original = services.set_deadline

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        table = connection.ops.quote_name(HandlingUnit._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [unit.pk])
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "set_deadline", wrapped)


def test_a_referral_to_a_unit_deleted_meanwhile_saves_nothing(world: Any, monkeypatch) -> None:
    case, unit = _with_unit()
    steps, audit_before = case.steps.count(), _case_audit_rows()
    _deleted_inside(monkeypatch, unit)

    response = client_for(User.objects.get(username="shatoujiao")).post(
        reverse("cases:refer", args=[case.pk]),
        {"handling_unit": unit.pk, "note": "请尽快核实处理", "version": case.version},
    )

    assert response.status_code == 409
    text = response.content.decode()
    assert "所选的承办单位刚被删除或停用" in text and "请尽快核实处理" in text
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.state == CaseState.AT_DEPARTMENT and fresh.handling_unit_id is None
    assert fresh.version == case.version
    assert fresh.steps.count() == steps
    assert not fresh.steps.filter(action=Action.REFER).exists()
    assert _case_audit_rows() == audit_before
