"""Representatives' photos (SM 5: the plaque shows each representative's photo):
uploaded through the edit form, checked, and served only to those who may see them."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from minyi.people.models import Representative
from tests.core.helpers import (
    client_for,
    png_bytes,
    png_upload,
    post_data_from,
    streamed_body,
    text_of,
)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def rep(world: Any) -> Representative:
    return Representative.objects.get(name="演示代表·陈明")


def upload(user: Any, rep: Representative, photo: Any, **changes: Any) -> Any:
    client = client_for(user)
    url = reverse("people:representative_edit", args=[rep.pk])
    data = post_data_from(client.get(url))
    data.update(changes)
    data["photo"] = photo
    return client.post(url, data)


def big_png() -> SimpleUploadedFile:
    """A valid PNG over 2 MB: random pixels do not compress."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000)).save(buffer, format="PNG")
    assert buffer.tell() > 2 * 1024 * 1024
    return SimpleUploadedFile("big.png", buffer.getvalue(), content_type="image/png")


def test_the_street_official_uploads_a_photo_that_is_then_served(
    street_official: Any, rep: Representative
) -> None:
    response = upload(street_official, rep, png_upload("chenming.png"))
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.photo.name is not None and rep.photo.name.startswith("representatives/")
    served = client_for(street_official).get(reverse("people:representative_photo", args=[rep.pk]))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert streamed_body(served) == png_bytes()
    assert "private" in served["Cache-Control"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("street_official", 200),
        ("district_official", 200),
        ("city_official", 200),
        ("admin_user", 200),
        ("liaison", 200),
        ("representative", 200),
        ("outsider", 404),
        ("handling_unit_staff", 404),
    ],
)
def test_the_photo_is_served_only_within_scope(
    street_official: Any, rep: Representative, request: Any, persona: str, status: int
) -> None:
    assert upload(street_official, rep, png_upload()).status_code == 302
    client = client_for(request.getfixturevalue(persona))
    response = client.get(reverse("people:representative_photo", args=[rep.pk]))
    assert response.status_code == status


def test_the_anonymous_visitor_is_sent_to_log_in(
    street_official: Any, rep: Representative, client: Any
) -> None:
    upload(street_official, rep, png_upload())
    response = client.get(reverse("people:representative_photo", args=[rep.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_detail_page_and_the_plaque_show_the_photo(
    street_official: Any, rep: Representative
) -> None:
    upload(street_official, rep, png_upload())
    photo_url = reverse("people:representative_photo", args=[rep.pk])
    client = client_for(street_official)
    assert photo_url in text_of(client.get(rep.get_absolute_url()))
    studio = rep.studios.get()
    assert photo_url in text_of(client.get(reverse("studios:plaque", args=[studio.pk])))


def test_a_missing_file_answers_404(street_official: Any, rep: Representative) -> None:
    upload(street_official, rep, png_upload())
    rep.refresh_from_db()
    assert rep.photo.name
    rep.photo.storage.delete(rep.photo.name)
    response = client_for(street_official).get(
        reverse("people:representative_photo", args=[rep.pk])
    )
    assert response.status_code == 404


def test_it_rejects_a_photo_that_is_too_large(street_official: Any, rep: Representative) -> None:
    response = upload(street_official, rep, big_png(), position="改过的职务")
    assert response.status_code == 400
    page = text_of(response)
    assert "照片：照片不能超过 2 MB。" in page
    assert "改过的职务" in page
    rep.refresh_from_db()
    assert not rep.photo
    assert rep.position == "工程师"


def test_the_size_limit_is_stated_as_configured(
    settings: Any, street_official: Any, rep: Representative
) -> None:
    settings.MAX_PHOTO_BYTES = 512 * 1024
    response = upload(street_official, rep, big_png())
    assert "照片不能超过 0.5 MB。" in text_of(response)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", b"this is not a picture"),
        ("photo.txt", b"plain text"),
        ("photo.html", b"<script>alert(1)</script>"),
    ],
)
def test_it_rejects_a_file_that_is_not_an_image(
    street_official: Any, rep: Representative, name: str, content: bytes
) -> None:
    response = upload(street_official, rep, SimpleUploadedFile(name, content))
    assert response.status_code == 400
    page = text_of(response)
    assert "照片：" in page
    assert "图片" in page
    rep.refresh_from_db()
    assert not rep.photo
