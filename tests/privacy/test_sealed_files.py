"""Private files are sealed each under its own key (minyi.core.sealed_files): the media
folder holds only ciphertext, downloads give back the exact bytes, and a purge that
deletes the key leaves every copy of the file, one in an earlier backup included, with
nothing in the database that opens it. Files stored before sealing are sealed in place by
`manage.py seal_private_files`, idempotently. MEDIA_ROOT is a fresh folder per test."""

from __future__ import annotations

import os
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from minyi.cases.attachments import case_attach
from minyi.cases.models import CaseAttachment
from minyi.cases.retention import anonymise
from minyi.core.sealed_files import (
    CHUNK,
    MAGIC,
    Opened,
    SealBroken,
    SealedFileField,
    plain_size,
    seal_stream,
)
from minyi.documents.models import Import
from minyi.people.models import Liaison
from tests.cases.helpers import register
from tests.core.helpers import client_for
from tests.documents.test_file_retention import an_export, an_import, purge
from tests.documents.test_imports import LIAISON_HEADERS, liaison_row, sheet_bytes, upload
from tests.documents.test_pdfs import user

SECRET = b"440300199001011234 RESIDENT-ID "  # what must never be readable on disk
PNG = b"\x89PNG\r\n\x1a\n" + SECRET * 40


def _seal(data: bytes, key: str) -> bytes:
    return b"".join(seal_stream(BytesIO(data), key))


def _open(sealed: bytes, key: str) -> bytes:
    reader = Opened(BytesIO(sealed), key)
    reader.verify()
    return Opened(BytesIO(sealed), key).read()


def _every_key_in_the_database() -> list[str]:
    keys = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, SealedFileField):
                keys += [
                    k for k in model._base_manager.values_list(field.key_field, flat=True) if k
                ]
    return keys


def _opens_with_any(copy: bytes, keys: list[str]) -> bool:
    for key in keys:
        try:
            _open(copy, key)
        except SealBroken:
            continue
        return True
    return False


# --- the format ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5])
def test_sealing_and_opening_give_back_the_exact_bytes(size):
    from minyi.core.sealed_files import new_key

    data = os.urandom(size)
    key = new_key()
    sealed = _seal(data, key)
    # (A few random bytes may turn up in any ciphertext by chance; a longer run cannot.)
    assert sealed.startswith(MAGIC) and (len(data) < 16 or data[:64] not in sealed)
    assert _open(sealed, key) == data
    assert plain_size(len(sealed)) == size
    # Read in odd pieces, as a response streams it.
    reader, pieces = Opened(BytesIO(sealed), key), []
    while piece := reader.read(1000):
        pieces.append(piece)
    assert b"".join(pieces) == data


def test_a_wrong_key_an_altered_byte_or_a_cut_file_is_refused():
    from minyi.core.sealed_files import HEADER, TAG, new_key

    key, data = new_key(), os.urandom(2 * CHUNK + 10)
    sealed = _seal(data, key)
    flipped = bytearray(sealed)
    flipped[HEADER + CHUNK + 5] ^= 1
    whole_chunks_only = sealed[: HEADER + 2 * (CHUNK + TAG)]  # the last chunk dropped
    for bad, with_key in [
        (sealed, new_key()),
        (bytes(flipped), key),
        (sealed[:-1], key),
        (whole_chunks_only, key),
        (sealed[:HEADER], key),
        (MAGIC, key),
    ]:
        with pytest.raises(SealBroken, match="文件已损坏或无法解密"):
            _open(bad, with_key)


# --- attachments --------------------------------------------------------------------


@pytest.mark.django_db
def test_an_attachment_is_stored_sealed_and_downloads_as_the_exact_bytes(
    world, liaison, street_official
):
    case = register()
    big = b"%PDF-1.7\n" + SECRET * 9000  # several chunks
    for name, data in [("现场照片.png", PNG), ("scan.pdf", big)]:
        attachment = case_attach(case=case, actor=liaison, upload=SimpleUploadedFile(name, data))
        stored = Path(attachment.file.path).read_bytes()
        assert stored.startswith(MAGIC) and SECRET not in stored
        assert attachment.file_key and attachment.file_key.encode() not in stored
        response = client_for(street_official).get(
            reverse("cases:attachment", args=[case.pk, attachment.pk])
        )
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == data
        assert int(response["Content-Length"]) == len(data)
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_a_damaged_attachment_gets_a_chinese_message_not_a_500(world, liaison, street_official):
    case = register()
    attachment = case_attach(case=case, actor=liaison, upload=SimpleUploadedFile("a.png", PNG))
    path = Path(attachment.file.path)
    damaged = bytearray(path.read_bytes())
    damaged[-3] ^= 0xFF
    path.write_bytes(bytes(damaged))
    url = reverse("cases:attachment", args=[case.pk, attachment.pk])
    response = client_for(street_official).get(url, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == case.get_absolute_url()
    assert "附件“a.png”无法打开：文件已损坏或无法解密" in response.content.decode()


@pytest.mark.django_db
def test_anonymisation_deletes_the_key_so_an_earlier_copy_opens_with_nothing(
    world, liaison, django_capture_on_commit_callbacks
):
    case = register()
    attachment = case_attach(case=case, actor=liaison, upload=SimpleUploadedFile("a.png", PNG))
    backup_copy = Path(attachment.file.path).read_bytes()  # a media backup taken earlier
    assert _opens_with_any(backup_copy, _every_key_in_the_database())  # the key opens it

    with django_capture_on_commit_callbacks(execute=True):
        anonymise([case], reason="测试")
    assert not CaseAttachment.objects.filter(pk=attachment.pk).exists()
    assert not _opens_with_any(backup_copy, _every_key_in_the_database())
    assert not Path(attachment.file.path).exists()


# --- Excel imports and exports ------------------------------------------------------


@pytest.mark.django_db
def test_an_uploaded_sheet_is_sealed_and_still_checked_and_committed(world):
    client = client_for(user("shatoujiao"))
    data = sheet_bytes([LIAISON_HEADERS, liaison_row("封存·测试", "13800007777")])
    assert upload(client, "liaisons", data).status_code == 200
    record = Import.objects.latest("pk")
    stored = Path(record.file.path).read_bytes()
    assert stored.startswith(MAGIC) and data[:200] not in stored
    page = client.get(reverse("documents:import_detail", args=[record.pk]))
    assert page.status_code == 200 and "无法读取" not in page.content.decode()
    committed = client.post(reverse("documents:import_commit", args=[record.pk]))
    assert committed.status_code == 302
    assert Liaison.objects.filter(name="封存·测试").exists()  # read back from the sealed file


@pytest.mark.django_db
def test_a_damaged_upload_is_refused_in_chinese(world):
    client = client_for(user("shatoujiao"))
    data = sheet_bytes([LIAISON_HEADERS, liaison_row("封存·测试", "13800007777")])
    upload(client, "liaisons", data)
    record = Import.objects.latest("pk")
    Path(record.file.path).write_bytes(MAGIC + b"\x00" * 40)
    response = client.post(reverse("documents:import_commit", args=[record.pk]))
    assert response.status_code == 400
    assert "上传的文件无法读取，未导入任何记录：文件已损坏或无法解密" in response.content.decode()
    assert Import.objects.get(pk=record.pk).state == "checked"


@pytest.mark.django_db
def test_an_export_downloads_decrypted_and_a_damaged_one_says_so(world):
    export = an_export(age_days=0)
    client = client_for(user("liaison"))
    url = reverse("documents:export_download", args=[export.pk])
    assert Path(export.file.path).read_bytes().startswith(MAGIC)
    response = client.get(url)
    assert b"".join(response.streaming_content) == b"PK fake xlsx"
    Path(export.file.path).write_bytes(MAGIC + b"\x01" * 60)
    broken = client.get(url)
    assert broken.status_code == 410
    assert "文件已损坏或无法解密" in broken.content.decode()


@pytest.mark.django_db
def test_purging_the_excel_files_empties_their_keys(world):
    export, record = an_export(age_days=30), an_import(age_days=30)
    copies = [Path(export.file.path).read_bytes(), Path(record.file.path).read_bytes()]
    assert all(_opens_with_any(copy, _every_key_in_the_database()) for copy in copies)
    purge()
    for row in (export, record):
        row.refresh_from_db()
        assert (row.file.name, row.file_key) == ("", "")
    assert not any(_opens_with_any(copy, _every_key_in_the_database()) for copy in copies)


@pytest.mark.django_db
def test_a_save_that_writes_the_file_without_its_key_is_refused(world):
    export = an_export(age_days=0)
    with pytest.raises(ValueError, match="file_key"):
        export.save(update_fields=["file"])


# --- key rotation -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rotation_of_the_field_key_covers_the_file_keys(world, liaison, settings):
    case = register()
    attachment = case_attach(case=case, actor=liaison, upload=SimpleUploadedFile("a.png", PNG))
    raw = _raw_key(attachment.pk)
    old_key = settings.MINYI_FIELD_KEY
    settings.MINYI_FIELD_KEY = Fernet.generate_key().decode()
    settings.MINYI_FIELD_KEY_FALLBACKS = [old_key]
    call_command("reencrypt_personal_data", stdout=StringIO())
    settings.MINYI_FIELD_KEY_FALLBACKS = []
    assert _raw_key(attachment.pk) != raw
    fresh = CaseAttachment.objects.get(pk=attachment.pk)
    assert fresh.file_key == attachment.file_key
    assert _opens_with_any(Path(fresh.file.path).read_bytes(), [fresh.file_key])


def _raw_key(pk: int) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT file_key FROM cases_caseattachment WHERE id = %s", [pk])
        return cursor.fetchone()[0]


# --- files stored before sealing ----------------------------------------------------


def _plain_attachment(case: Any, actor: Any, data: bytes) -> CaseAttachment:
    """An attachment as it was stored before sealing: the plain bytes, no key."""
    token = f"{os.urandom(8).hex()}.png"
    name = default_storage.save(f"private/attachments/{case.year}/{token}", ContentFile(data))
    return CaseAttachment.objects.create(
        case=case,
        token=token,
        file=name,
        original_name="旧附件.png",
        content_type="image/png",
        size=len(data),
        uploaded_by=actor,
    )


def _seal_command(*args: str) -> str:
    out = StringIO()
    call_command("seal_private_files", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_plain_files_are_read_then_sealed_in_place_once(world, liaison, street_official):
    case = register()
    old = _plain_attachment(case, liaison, PNG)
    url = reverse("cases:attachment", args=[case.pk, old.pk])
    client = client_for(street_official)
    assert b"".join(client.get(url).streaming_content) == PNG  # readable before the command
    with pytest.raises(CommandError, match="还有 1 个私有文件是明文"):
        _seal_command("--check")

    assert "本次加密 1 个" in _seal_command()
    stored = Path(old.file.path).read_bytes()
    assert stored.startswith(MAGIC) and SECRET not in stored
    assert CaseAttachment.objects.get(pk=old.pk).file_key
    assert b"".join(client.get(url).streaming_content) == PNG
    assert not list(Path(old.file.path).parent.glob("*.sealing"))

    again = _seal_command()  # idempotent: nothing left to do, nothing rewritten
    assert "本次加密 0 个，已加密 1 个" in again
    assert Path(old.file.path).read_bytes() == stored
    assert "仍为明文 0 个" in _seal_command("--check")


@pytest.mark.django_db
def test_a_run_stopped_after_its_commit_is_finished_by_the_next(world, liaison, street_official):
    from minyi.core.sealed_files import new_key

    case = register()
    old = _plain_attachment(case, liaison, PNG)
    # Killed between the commit of the key and the rename: the key is stored, the file
    # still plain beside a stale sealed copy.
    CaseAttachment.objects.filter(pk=old.pk).update(file_key=new_key())
    Path(old.file.path + ".sealing").write_bytes(b"half written")
    url = reverse("cases:attachment", args=[case.pk, old.pk])
    client = client_for(street_official)
    assert b"".join(client.get(url).streaming_content) == PNG  # still readable

    key = CaseAttachment.objects.get(pk=old.pk).file_key
    assert "本次加密 1 个" in _seal_command()
    assert CaseAttachment.objects.get(pk=old.pk).file_key == key  # the committed key is kept
    assert Path(old.file.path).read_bytes().startswith(MAGIC)
    assert b"".join(client.get(url).streaming_content) == PNG


@pytest.mark.django_db
def test_a_file_purged_while_it_is_being_sealed_gets_no_key_back(world, monkeypatch):
    from minyi.core import sealing_existing

    record = an_import(age_days=0)
    Import.objects.filter(pk=record.pk).update(file_key="")  # as stored before sealing
    path = Path(record.file.path)
    path.write_bytes(b"PK plain sheet")
    write = sealing_existing._write_sealed

    def purged_meanwhile(plain_path: str, key: str) -> str:
        sealed_copy = write(plain_path, key)
        purge_file = Import.objects.filter(pk=record.pk)
        purge_file.update(file="", file_key="")  # purge_document_files, at this moment
        os.remove(plain_path)
        return sealed_copy

    monkeypatch.setattr(sealing_existing, "_write_sealed", purged_meanwhile)
    _seal_command()
    assert Import.objects.get(pk=record.pk).file_key == ""
    assert not path.exists() and not Path(str(path) + ".sealing").exists()
