"""The search box's example words find a studio in the demo as `make run` builds it:
the real Shenzhen tree and `load_demo`. An example that finds nothing tells the person
trying the demo (and the resident copying it) that the search does not work."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

DIVISIONS = Path(settings.BASE_DIR) / "minyi" / "org" / "data" / "shenzhen.csv"


def _examples(page: str) -> list[str]:
    help_text = re.search(r"例如：([^<]+)", page)
    assert help_text, "the search box offers no example"
    return [word.strip() for word in help_text.group(1).split("、") if word.strip()]


def test_each_example_on_the_search_page_finds_a_demo_studio() -> None:
    call_command("import_divisions", str(DIVISIONS), stdout=StringIO())
    call_command("load_demo", stdout=StringIO())
    client = Client()
    examples = _examples(client.get(reverse("online:find")).content.decode())
    assert len(examples) >= 3  # a community, a street and a road
    for word in examples:
        page = client.get(reverse("online:find"), {"q": word}).content.decode()
        found = re.search(r"的查找结果：(\d+) 个工作室", page)
        assert found and int(found.group(1)) > 0, f"the example “{word}” finds nothing"
