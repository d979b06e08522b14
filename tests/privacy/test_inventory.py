"""docs/personal-data.md lists every personal field (issue 7, item 3).

Walks every model of the project and fails when a field that looks personal, by its name
or its label, or that is of a personal kind (encrypted, a lookup digest, a file, an e-mail
field), has no row in the inventory's tables.
"""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from minyi.core.crypto import EncryptedCharField, PhoneDigestField

DOC = Path(__file__).resolve().parents[2] / "docs" / "personal-data.md"

# Names and labels that suggest a person's data. Matched on the field's name (lower case)
# and its verbose name.
NAME_PATTERN = re.compile(
    r"phone|mobile|tel|address|email|mail|employer|id_?(number|no|card)|passport|"
    r"full_name|first_name|last_name|household|contact|attendee|birth|photo|"
    r"ip_?addr|username"
)
LABEL_PATTERN = re.compile(
    r"电话|手机|地址|住址|姓名|名字|姓氏|工作单位|身份证|证件|邮箱|邮件|联系人|联系方式|书记|住户|"
    r"参加人员|出生|照片|用户名"
)
PERSONAL_KINDS = (EncryptedCharField, PhoneDigestField, models.FileField, models.EmailField)


def documented_fields() -> set[str]:
    """Every `app.Model.field` that opens a table row in the inventory."""
    rows = re.findall(r"^\|\s*`([a-z_]+\.[A-Za-z]+\.[a-z_0-9]+)`\s*\|", DOC.read_text(), re.M)
    return set(rows)


def looks_personal(field: models.Field) -> bool:
    if isinstance(field, PERSONAL_KINDS):
        return True
    if field.is_relation or field.auto_created or isinstance(field, models.BooleanField):
        return False  # a flag holds no one's data, whatever its label says
    return bool(
        NAME_PATTERN.search(field.name.lower()) or LABEL_PATTERN.search(str(field.verbose_name))
    )


def project_fields() -> list[str]:
    found = []
    for model in apps.get_models():
        if not model.__module__.startswith("minyi."):
            continue
        for field in model._meta.get_fields():
            if isinstance(field, models.Field) and field.concrete and looks_personal(field):
                found.append(f"{model._meta.label}.{field.name}")
    return found


def test_every_personal_field_is_in_the_inventory():
    missing = sorted(set(project_fields()) - documented_fields())
    assert not missing, (
        "docs/personal-data.md lacks these fields (add a row: purpose, who may see it, "
        f"how long it is kept): {missing}"
    )


def test_the_inventory_names_only_fields_that_exist():
    existing = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            existing.add(f"{model._meta.label}.{field.name}")
    stale = sorted(documented_fields() - existing)
    assert not stale, f"docs/personal-data.md lists fields that no longer exist: {stale}"


def test_the_walk_catches_a_new_personal_field():
    # The test above cannot pass by finding nothing: a field named like a phone, or labelled
    # 身份证号码, or encrypted, is flagged; a plain status field is not.
    assert looks_personal(models.CharField("联系电话", max_length=20, name="mobile"))
    assert looks_personal(models.CharField("身份证号码", max_length=18, name="card"))
    assert looks_personal(EncryptedCharField("x", max_length=20, name="x"))
    assert not looks_personal(models.CharField("状态", max_length=20, name="state"))
    assert "cases.Case.reporter_phone" in project_fields()


@pytest.mark.parametrize(
    "label",
    [
        "cases.Case.reporter_phone",
        "cases.Case.reporter_name",
        "cases.Case.reporter_employer",
        "duties.HouseholdVisit.address",
        "duties.Appointment.name",
        "people.Liaison.phone",
    ],
)
def test_encrypted_fields_say_so_in_the_inventory(label):
    app_label, model_name, field_name = label.split(".")
    field = apps.get_model(app_label, model_name)._meta.get_field(field_name)
    assert isinstance(field, EncryptedCharField)
    row = next(line for line in DOC.read_text().splitlines() if line.startswith(f"| `{label}`"))
    assert row.rstrip(" |").endswith("加密")
