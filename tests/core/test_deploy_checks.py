"""The deploy check minyi.E001 (minyi.core.checks): `check --deploy` fails while private
files stored before sealing are still plain, until `seal_private_files` has run, a run
killed before it put a sealed copy in place included; it reads one count per sealed model
through a partial index and one of the pending marks, never the media folder."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection

from minyi.cases.attachments import case_attach
from minyi.cases.models import CaseAttachment
from minyi.core import sealing_existing
from minyi.core.checks import private_files_sealed
from minyi.core.models import PendingSeal
from minyi.core.sealing_existing import sealed_fields, unsealed
from minyi.documents.models import Import
from tests.cases.helpers import register
from tests.documents.test_file_retention import an_import
from tests.privacy.test_sealed_files import PNG, _plain_attachment, _seal_command

pytestmark = pytest.mark.django_db


def deploy_check() -> None:
    call_command("check", "--deploy", "--tag", "security", verbosity=0)


def test_a_fresh_database_passes(world: Any, liaison: Any) -> None:
    case_attach(case=register(), actor=liaison, upload=SimpleUploadedFile("a.png", PNG))
    an_import(age_days=0)  # files saved now are sealed and keyed
    assert private_files_sealed() == []
    deploy_check()


def test_plain_files_fail_the_deploy_check_until_they_are_sealed(world: Any, liaison: Any) -> None:
    _plain_attachment(register(), liaison, PNG)
    _plain_attachment(register(), liaison, PNG)
    with pytest.raises(SystemCheckError) as raised:
        deploy_check()
    message = str(raised.value)
    assert "minyi.E001" in message and "还有 2 个私有文件未加密（案件附件 2 个）" in message
    assert "manage.py seal_private_files" in message
    _seal_command()
    assert private_files_sealed() == []
    deploy_check()


def test_a_missing_file_is_reported_until_the_operator_confirms_it_is_lost(
    world: Any, liaison: Any
) -> None:
    lost = _plain_attachment(register(), liaison, PNG)
    os.remove(lost.file.path)
    # A media folder not mounted looks the same: sealing alone must not make it pass.
    assert "文件不存在 1 个" in _seal_command()
    [error] = private_files_sealed()
    assert error.id == "minyi.E001" and "--forget-missing" in (error.hint or "")
    assert "已确认丢失 1 个" in _seal_command("--forget-missing")
    assert CaseAttachment.objects.get(pk=lost.pk).file_key
    assert private_files_sealed() == []


class Killed(BaseException):
    """The sealing run's process dying (a kill, a lost machine): nothing catches it."""


def _killed_before_the_rename(monkeypatch: Any) -> None:
    def rename(*args: Any) -> None:
        raise Killed

    monkeypatch.setattr(sealing_existing.os, "replace", rename)
    with pytest.raises(Killed):
        _seal_command()
    monkeypatch.undo()


def test_a_run_killed_between_the_key_and_the_rename_still_fails_the_check(
    world: Any, liaison: Any, monkeypatch: Any
) -> None:
    plain = _plain_attachment(register(), liaison, PNG)
    _killed_before_the_rename(monkeypatch)
    # The key is committed, the file on disk is still the plain one.
    assert CaseAttachment.objects.get(pk=plain.pk).file_key
    with open(plain.file.path, "rb") as handle:
        assert handle.read(len(PNG)) == PNG
    [error] = private_files_sealed()
    assert "还有 1 个私有文件未加密（案件附件 1 个）" in error.msg
    assert "本次加密 1 个" in _seal_command()  # under the key already committed
    assert private_files_sealed() == []
    assert not PendingSeal.objects.exists()


def test_the_mark_of_a_file_purged_since_goes_with_the_next_run(
    world: Any, liaison: Any, monkeypatch: Any
) -> None:
    plain = _plain_attachment(register(), liaison, PNG)
    _killed_before_the_rename(monkeypatch)
    CaseAttachment.objects.filter(pk=plain.pk).delete()  # the retention job, meanwhile
    assert len(private_files_sealed()) == 1
    _seal_command()
    assert private_files_sealed() == []


def test_it_costs_one_indexed_count_per_sealed_model(
    world: Any, django_assert_num_queries: Any
) -> None:
    record = an_import(age_days=0)
    Import.objects.filter(pk=record.pk).update(file_key="")  # as stored before sealing
    models = list(sealed_fields())
    with django_assert_num_queries(len(models) + 1):  # and one for the PendingSeal marks
        [error] = private_files_sealed()
    assert "导入记录 1 个" in error.msg
    index = {"caseattachment": "attachment_unsealed"}
    for model, field in models:
        assert model._meta.model_name is not None
        name = index.get(model._meta.model_name, f"{model._meta.model_name}_unsealed")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # a few test rows: make the planner show it
                cursor.execute("SET LOCAL enable_seqscan = off")
        assert name in unsealed(model, field).explain(), model
