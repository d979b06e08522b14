"""Small helpers for page tests: log in a persona, read back a form as POST data."""

from __future__ import annotations

import io
import re
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponseBase, StreamingHttpResponse
from django.test import Client
from PIL import Image


def choices_of(field: forms.Field) -> list[tuple[Any, Any]]:
    """A choice field's (value, label) pairs. A form's fields are typed as plain Fields,
    and a ChoiceField's choices as anything it accepts; Django keeps them as this list."""
    assert isinstance(field, forms.ChoiceField), field
    return cast(list[tuple[Any, Any]], field.choices)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def found(pattern: str, text: str, flags: int = 0) -> str:
    """The first group of `pattern`'s first match in `text`, which must have one."""
    match = re.search(pattern, text, flags)
    assert match is not None, f"{pattern!r} not in {text[:2000]!r}"
    return match.group(1)


def opened_values(monkeypatch: Any) -> list[str]:
    """The values decrypted from now on (every token read goes through crypto.decrypt):
    what a page read of the encrypted columns, to check it left some unread."""
    from minyi.core import crypto

    opened: list[str] = []
    real = crypto.decrypt

    def decrypt(token: str) -> str:
        opened.append(value := real(token))
        return value

    monkeypatch.setattr(crypto, "decrypt", decrypt)
    return opened


def post_data_from(response: Any) -> dict[str, Any]:
    """The values a browser would post back for the form on a rendered page (an admin
    change page's form too)."""
    context = response.context
    form = context["adminform"].form if "adminform" in context else context["form"]
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        if isinstance(field, forms.FileField):
            continue
        value = form[name].value()
        if isinstance(field.widget, forms.CheckboxInput):
            if value:
                data[name] = "on"
            continue
        if value is None:
            continue
        if isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        else:
            data[name] = str(value)
    return data


def png_bytes(size: tuple[int, int] = (4, 4), colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def png_upload(name: str = "photo.png", **kwargs: Any) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(**kwargs), content_type="image/png")


def streamed_body(response: HttpResponseBase) -> bytes:
    """The whole body of a streamed response (a file served, an export download): the
    test client's response is typed as a plain HttpResponse."""
    assert isinstance(response, StreamingHttpResponse), type(response)
    return response.getvalue()


def text_of(response: Any) -> str:
    return response.content.decode()
