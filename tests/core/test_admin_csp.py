"""The Django admin under the site's Content-Security-Policy (`style-src 'self'`, scripts
only with the request's nonce): an inline <style> or style="" in an admin page is
dropped by the browser, and an inline <script> without the nonce does not run. Django's
change_list.html prints an inline <style> for a list that shows its actions neither
above nor below (our policy has no nonce for styles, so its nonce does not help);
every list and add form of every registered model is rendered here and read for them."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from minyi.people.models import User

INLINE_STYLE = re.compile(r"<style[\s>]|\sstyle=\"")
SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>")

pytestmark = pytest.mark.django_db


def _problems(models) -> list[str]:
    user = User.objects.create_superuser("csp-admin", password="x" * 16)
    client = Client()
    client.force_login(user)
    found = []
    for model in models:
        meta = model._meta
        for view in ("changelist", "add"):
            url = reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}")
            response = client.get(url)
            if response.status_code == 403:  # an add the admin never offers
                continue
            assert response.status_code == 200, (url, response.status_code)
            body = response.content.decode()
            if INLINE_STYLE.search(body):
                found.append(f"{url}: inline style")
            for match in SCRIPT.finditer(body):
                attrs = match.group("attrs")
                if "src=" not in attrs and "nonce=" not in attrs and "json" not in attrs:
                    found.append(f"{url}: inline script without nonce")
    return found


def test_no_admin_list_or_add_form_carries_inline_style_or_an_unnonced_script() -> None:
    assert not _problems(list(admin.site._registry))


def test_a_list_without_actions_would_be_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    model = next(iter(admin.site._registry))
    # A list that shows its actions neither above nor below (Django then prints a <style>).
    monkeypatch.setattr(admin.site._registry[model], "actions_on_top", False)
    monkeypatch.setattr(admin.site._registry[model], "actions_on_bottom", False)
    assert any("inline style" in problem for problem in _problems([model]))
