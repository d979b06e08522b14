"""Attachments: type by content, size cap, generated names outside the web root."""

from __future__ import annotations

from uuid import uuid4

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from minyi.cases.attachments import case_attach, sniff_type
from minyi.core.sealed_files import MAGIC
from tests.cases.helpers import register

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"0" * 64


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 16, "image/jpeg"),
        (PDF, "application/pdf"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"MZ\x90\x00", None),
        (b"<html><script>", None),
    ],
)
def test_it_decides_the_type_by_the_first_bytes(head, expected):
    found = sniff_type(head)
    assert (found[0] if found else None) == expected


@pytest.mark.django_db
def test_it_stores_an_upload_under_a_generated_name_outside_the_web_root(
    world, liaison, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    case = register()
    attachment = case_attach(
        case=case, actor=liaison, upload=SimpleUploadedFile("../../etc/现场照片.png", PNG)
    )
    assert attachment.content_type == "image/png"
    assert attachment.original_name == "现场照片.png"
    assert attachment.file.name.startswith("private/attachments/2026/")
    assert ".." not in attachment.file.name and "现场" not in attachment.file.name
    stored = (tmp_path / attachment.file.name).read_bytes()
    assert stored.startswith(MAGIC) and PNG[:8] not in stored  # sealed, not the upload


@pytest.mark.django_db
def test_it_refuses_a_file_whose_content_is_not_allowed_even_with_a_picture_name(
    world, liaison, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError, match="类型不受支持"):
        case_attach(
            case=register(),
            actor=liaison,
            upload=SimpleUploadedFile("photo.jpg", b"MZ\x90\x00" + b"\x00" * 40, "image/jpeg"),
        )


@pytest.mark.django_db
def test_it_refuses_a_file_over_the_size_cap(world, liaison, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MAX_ATTACHMENT_BYTES = 1024 * 1024
    big = SimpleUploadedFile("scan.pdf", PDF + b"0" * (1024 * 1024))
    with pytest.raises(ValidationError, match="超过 1 MB"):
        case_attach(case=register(), actor=liaison, upload=big)
    assert not list(tmp_path.rglob("*.pdf"))


# --- through the pages ------------------------------------------------------------


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_liaison_adds_a_photo_and_an_official_in_scope_downloads_it_as_a_file(
    world, liaison, street_official
):
    from django.urls import reverse

    case = register()
    response = _client(liaison).post(
        reverse("cases:attachment_add", args=[case.pk]),
        {"files": [SimpleUploadedFile("现场照片.png", PNG)]},
        follow=True,
    )
    assert "已添加 1 个附件" in response.content.decode()
    attachment = case.attachments.get()
    download = _client(street_official).get(
        reverse("cases:attachment", args=[case.pk, attachment.pk])
    )
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == PNG
    # The reporter's material seen in full: recorded like a view of their details.
    view = case.personal_data_views.get()
    assert view.viewer == street_official and view.purpose == "下载附件：现场照片.png"


@pytest.mark.django_db
def test_a_bad_upload_is_refused_with_a_message_and_nothing_is_stored(world, liaison):
    from django.urls import reverse

    case = register()
    response = _client(liaison).post(
        reverse("cases:attachment_add", args=[case.pk]),
        {"files": [SimpleUploadedFile("病毒.jpg", b"MZ\x90\x00" + b"\x00" * 40)]},
        follow=True,
    )
    assert "类型不受支持" in response.content.decode()
    assert not case.attachments.exists()


@pytest.mark.django_db
def test_a_unit_the_case_is_about_cannot_download_its_attachments(
    world, liaison, street_official, handling_unit_staff
):
    from django.urls import reverse

    from minyi.cases import services
    from minyi.org.models import HandlingUnit

    unit = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    case = register(about_unit=unit)
    attachment = case_attach(case=case, actor=liaison, upload=SimpleUploadedFile("a.pdf", PDF))
    case = services.case_send_to_street(case=case, actor=liaison)
    services.case_refer(case=case, actor=street_official, handling_unit=unit)
    url = reverse("cases:attachment", args=[case.pk, attachment.pk])
    assert _client(handling_unit_staff).get(url).status_code == 404
    assert _client(street_official).get(url).status_code == 200


@pytest.mark.django_db
def test_registration_with_an_attachment_keeps_both_or_neither(world, liaison):
    from django.urls import reverse

    from minyi.cases.models import Case
    from minyi.people.models import Representative
    from minyi.studios.models import Studio
    from tests.cases.helpers import reporter_data

    form = {k: v for k, v in reporter_data().items() if k not in {"received_on"}} | {
        "studio": Studio.objects.get(name="沙头角社区党代表工作室").pk,
        "representative": Representative.objects.get(name="演示代表·陈明").pk,
        "received_on": "2026-03-04",
        "reporter_phone": "13800005678",
        "submission_key": str(uuid4()),  # kept by the refused form, used by the good one
    }
    bad = _client(liaison).post(
        reverse("cases:create"), form | {"attachments": [SimpleUploadedFile("x.jpg", b"GIF89a")]}
    )
    assert bad.status_code == 400
    assert "类型不受支持" in bad.content.decode()
    assert not Case.objects.exists()
    good = _client(liaison).post(
        reverse("cases:create"), form | {"attachments": [SimpleUploadedFile("scan.pdf", PDF)]}
    )
    assert good.status_code == 302
    case = Case.objects.get()
    assert case.serial == 1
    assert case.attachments.get().content_type == "application/pdf"
