"""Small helpers for page tests: log in a persona, read back a form as POST data."""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


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


def text_of(response: Any) -> str:
    return response.content.decode()
