"""Private files no row refers to (minyi.core.orphan_files): left by a process that died
between writing a file and committing its row, they are deleted by the daily
`purge_document_files` once a day old, and nothing else in the media folder is touched.
MEDIA_ROOT is a fresh folder per test (tests/conftest.py)."""

from __future__ import annotations

import os
import time
from io import StringIO
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError
from django.db.models import QuerySet

from minyi.cases.attachments import case_attach
from minyi.core.orphan_files import folder_of
from minyi.core.sealing_existing import sealed_fields
from minyi.documents.excel import run
from minyi.documents.models import Export, ExportState
from tests.cases.helpers import register
from tests.documents.test_file_retention import an_export, an_import, stored_name
from tests.documents.test_pdfs import user
from tests.privacy.test_sealed_files import PNG

pytestmark = pytest.mark.django_db


def stored(name: str, *, hours_old: float) -> str:
    saved = default_storage.save(name, ContentFile(b"MINYISF1 ciphertext"))
    backdate(saved, hours_old=hours_old)
    return saved


def backdate(name: str, *, hours_old: float) -> None:
    then = time.time() - hours_old * 3600
    os.utime(default_storage.path(name), (then, then))


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_document_files", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def media(world: Any) -> dict[str, str]:
    """A day-old file of each kind with a row, orphans old and young, and a photo."""
    export, upload = an_export(age_days=0), an_import(age_days=0)
    backdate(stored_name(export.file), hours_old=30)
    backdate(stored_name(upload.file), hours_old=30)
    return {
        "export": stored_name(export.file),
        "upload": stored_name(upload.file),
        # An export job killed after writing its file, before marking itself done.
        "orphan export": stored("exports/2026/11/export-999.xlsx", hours_old=25),
        "orphan upload": stored("imports/2026/11/import-liaisons.xlsx", hours_old=48),
        # A seal_private_files run killed before its rename.
        "sealing copy": stored("private/attachments/2026/ab12.png.sealing", hours_old=26),
        # Being written now: its row is not committed yet.
        "young orphan": stored("exports/2026/11/export-1000.xlsx", hours_old=1),
        "photo": stored("representatives/photo.jpg", hours_old=24 * 30),
    }


ORPHANS = {"orphan export", "orphan upload", "sealing copy"}


def test_files_no_row_refers_to_go_once_a_day_old(media: dict[str, str]) -> None:
    output = purge("-v", "2")
    assert "无记录的文件 3 个" in output
    for what, name in media.items():
        assert default_storage.exists(name) == (what not in ORPHANS), what
        assert (f"已删除无记录的文件：{name}" in output) == (what in ORPHANS), what
    assert "无记录的文件 0 个" in purge()  # idempotent


def test_a_dry_run_lists_them_and_deletes_nothing(media: dict[str, str]) -> None:
    output = purge("--dry-run")
    assert "无记录的文件 3 个" in output
    for what, name in media.items():
        assert default_storage.exists(name), what
        assert (f"将删除无记录的文件：{name}" in output) == (what in ORPHANS), what


def test_an_attachment_with_its_row_stays(world: Any, liaison: Any) -> None:
    attachment = case_attach(
        case=register(), actor=liaison, upload=SimpleUploadedFile("a.png", PNG)
    )
    backdate(stored_name(attachment.file), hours_old=48)
    assert "无记录的文件 0 个" in purge()
    assert default_storage.exists(stored_name(attachment.file))


def test_every_sealed_field_names_the_folder_it_writes_to() -> None:
    folders = {folder_of(field) for _model, field in sealed_fields()}
    assert folders == {"exports", "imports", "private/attachments"}


def test_an_export_whose_last_update_fails_leaves_no_file(world: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(run, "SYNC_ROWS", 0)
    register()
    export = Export.objects.create(owner=user("liaison"), kind="cases")
    real_update = QuerySet.update

    def refuse_done(self: QuerySet[Any], **kwargs: Any) -> int:
        if kwargs.get("state") == ExportState.DONE:
            raise DatabaseError("the connection dropped")
        return real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", refuse_done)
    run.export_job_run(export.pk)
    export.refresh_from_db()
    assert export.state == ExportState.FAILED and not export.file
    root = default_storage.path("exports")
    assert [files for _root, _dirs, files in os.walk(root) if files] == []
