"""The duties start page offers only what the account can open: a handling unit's staff
were offered 履职提醒 (the compliance page), which is a 404 for them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from minyi.core.demo import DEMO_ACCOUNTS
from minyi.people.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("username", [a.username for a in DEMO_ACCOUNTS if a.username != "admin"])
def test_every_link_on_the_duties_hub_opens(world: Any, username: str) -> None:
    client = Client()
    client.force_login(User.objects.get(username=username))
    page = client.get(reverse("duties:hub")).content.decode()
    main = page[page.index("<main") :]
    links = re.findall(r'href="(/duties/[^"]*)"', main)
    assert links
    broken = [link for link in links if client.get(link).status_code != 200]
    assert not broken, f"{username}: {broken}"
