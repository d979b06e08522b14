"""Attachments: type by content, size cap, generated names outside the web root."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from minyi.cases.attachments import case_attach, sniff_type
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
    assert (tmp_path / attachment.file.name).read_bytes() == PNG


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
