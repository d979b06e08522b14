"""A community saved by hand while an import of the division files runs is refused at
once, with a message, nothing saved (minyi.org.prefixes.hold_off_imports): a national
import holds its lock for minutes, longer than a web request may wait. Another
connection holds the import's lock here; without the refusal the save would wait for
it, and the holder lets go after HOLD_SECONDS, so a test cannot hang."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import close_old_connections, connection, transaction
from django.urls import reverse

from minyi.org.models import OrgUnit
from minyi.org.prefixes import IMPORT_RUNNING, lock_imports
from tests.core.helpers import client_for, post_data_from, text_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the import's advisory lock is PostgreSQL's (SQLite's writers queue)",
    ),
]

COMMUNITY = "440308003009"
HOLD_SECONDS = 5.0  # far longer than a refusal takes; what a wait would take


@pytest.fixture
def import_running() -> Iterator[None]:
    """An import's lock, held in another connection until the test is done (or
    HOLD_SECONDS at most)."""
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                lock_imports()
                held.set()
                done.wait(HOLD_SECONDS)
        finally:
            close_old_connections()
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    yield
    done.set()
    holder.join(HOLD_SECONDS + 5)


def _answered_at_once(post: Any) -> Any:
    started = time.monotonic()
    response = post()
    assert time.monotonic() - started < HOLD_SECONDS / 2, "the save waited for the import"
    return response


def test_the_unit_page_refuses_a_community_at_once_and_keeps_what_was_typed(
    world: Any, street_official: Any, import_running: None
) -> None:
    unit = world[COMMUNITY]
    client = client_for(street_official)
    url = reverse("org:unit_edit", args=[unit.pk])
    data = post_data_from(client.get(url)) | {"name": "田心社区居民委员会", "short_name": "田心"}
    response = _answered_at_once(lambda: client.post(url, data))
    assert response.status_code == 409
    page = text_of(response)
    assert IMPORT_RUNNING in page
    assert "田心社区居民委员会" in page  # what was typed
    stored = OrgUnit.objects.get(pk=unit.pk)
    assert (stored.short_name, stored.number_prefix) == (unit.short_name, unit.number_prefix)


def test_the_admin_refuses_a_community_at_once_and_keeps_what_was_typed(
    world: Any, client: Any, django_user_model: Any, import_running: None
) -> None:
    client.force_login(
        django_user_model.objects.create(username="tree-admin", is_staff=True, is_superuser=True)
    )
    unit = world[COMMUNITY]
    url = reverse("admin:org_orgunit_change", args=[unit.pk])
    data = post_data_from(client.get(url)) | {"name": "田心社区居民委员会", "short_name": "田心"}
    response = _answered_at_once(lambda: client.post(url, data))
    assert response.status_code == 200  # the admin's form, with its errors
    page = response.content.decode()
    assert IMPORT_RUNNING in page and "田心社区居民委员会" in page
    assert OrgUnit.objects.get(pk=unit.pk).short_name == unit.short_name


def test_a_unit_above_the_communities_is_saved_as_usual(
    world: Any, district_official: Any, import_running: None
) -> None:
    """Only a community claims a prefix; a street's save neither waits nor is refused."""
    unit = world["440308003"]
    client = client_for(district_official)
    url = reverse("org:unit_edit", args=[unit.pk])
    data = post_data_from(client.get(url)) | {"party_secretary": "测试书记·何平"}
    response = _answered_at_once(lambda: client.post(url, data))
    assert response.status_code == 302
    assert OrgUnit.objects.get(pk=unit.pk).party_secretary == "测试书记·何平"
