"""Uploads (issue 7, item 4): allow-listed by content and size, stored under generated
names outside the web root, served only as attachments through the scoped view; no stack
trace or SQL reaches the user when something fails underneath."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse

import config.settings as configured
from minyi.cases.attachments import case_attach
from minyi.cases.models import CaseAttachment
from minyi.people.models import User
from tests.cases.helpers import register

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _client(username: str) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=username))
    return client


def test_uploads_live_outside_every_served_folder():
    media = Path(configured.MEDIA_ROOT).resolve()
    served = [Path(configured.STATIC_ROOT), *map(Path, configured.STATICFILES_DIRS)]
    for folder in served:
        assert not media.is_relative_to(folder.resolve())
    assert not media.is_relative_to((configured.BASE_DIR / "minyi").resolve())


@pytest.mark.django_db
def test_an_upload_is_never_reachable_by_its_storage_path(world, liaison):
    case = register()
    attachment = case_attach(case=case, actor=liaison, upload=SimpleUploadedFile("a.png", PNG))
    client = _client("shatoujiao")
    for url in (f"/media/{attachment.file.name}", f"/{attachment.file.name}"):
        assert client.get(url).status_code == 404
    ok = client.get(reverse("cases:attachment", args=[case.pk, attachment.pk]))
    assert ok.status_code == 200


@pytest.mark.django_db
def test_a_download_is_an_attachment_of_the_sniffed_type_with_a_safe_name(world, liaison):
    case = register()
    upload = SimpleUploadedFile('现场"\r\nX-Evil: 1.png', PNG, content_type="text/html")
    attachment = case_attach(case=case, actor=liaison, upload=upload)
    response = _client("shatoujiao").get(reverse("cases:attachment", args=[case.pk, attachment.pk]))
    assert response["Content-Type"] == "image/png"  # not the browser's word
    assert response["Content-Disposition"].startswith("attachment;")
    assert "\n" not in response["Content-Disposition"] and "X-Evil" not in response.headers
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PNG


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, content",
    [
        ("photo.png", b"<html><script>alert(1)</script></html>"),
        ("photo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
        ("report.pdf.exe", b"MZ\x90\x00" + b"\x00" * 40),
    ],
)
def test_the_page_refuses_content_outside_the_allow_list_with_a_message(
    world, liaison, name, content
):
    case = register()
    client = _client("liaison")
    response = client.post(
        reverse("cases:attachment_add", args=[case.pk]),
        {"files": SimpleUploadedFile(name, content, content_type="image/png")},
        follow=True,
    )
    assert response.status_code == 200
    assert "类型不受支持" in response.content.decode()
    assert not CaseAttachment.objects.exists()


@pytest.mark.django_db
def test_a_database_failure_during_an_upload_shows_no_sql_or_trace(world, liaison, monkeypatch):
    case = register()

    def failing(**kwargs):
        raise DatabaseError('relation "cases_caseattachment" does not exist: SELECT "token"')

    monkeypatch.setattr("minyi.cases.views_attachments.case_attach", failing)
    response = _client("liaison").post(
        reverse("cases:attachment_add", args=[case.pk]),
        {"files": SimpleUploadedFile("a.png", PNG)},
    )
    assert response.status_code == 500
    page = response.content.decode()
    assert "系统暂时出错" in page
    for leak in ("SELECT", "cases_caseattachment", "Traceback", "DatabaseError", 'File "'):
        assert leak not in page
