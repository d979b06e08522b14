"""发送 posted twice on one session, both posts reading the draft before either drops
it, sends one opinion: the draft carries a one-time key (minyi.core.once) that the case
stores under a unique constraint."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse

from minyi.cases.models import Case, CaseNumberCounter
from minyi.online import services, views
from minyi.online.models import OnlineReport
from tests.online.helpers import form_data, studio


def _drafted(client: Client) -> dict[str, Any]:
    pk = studio().pk
    response = client.post(reverse("online:report_form", args=[pk]), form_data())
    assert response.status_code == 302
    draft = client.session[views.DRAFT_KEY]
    assert uuid.UUID(draft["key"])
    return draft


def _send(client: Client) -> Any:
    return client.post(reverse("online:report_check", args=[studio().pk]), {"consent": "on"})


@pytest.mark.django_db
def test_a_post_that_read_the_draft_before_the_first_sent_it_sends_nothing(
    world: Any,
) -> None:
    """The race, one post after the other: the second post's session still has the
    draft the first one dropped (as when both read it before either saved)."""
    client = Client(REMOTE_ADDR="10.0.0.1")
    draft = _drafted(client)
    assert _send(client)["Location"] == reverse("online:report_done")
    case = Case.objects.get()
    assert case.submission_key == uuid.UUID(draft["key"])
    session = client.session
    session[views.DRAFT_KEY] = draft
    session.save()
    again = _send(client)
    assert again.status_code == 302 and again["Location"] == reverse("online:report_done")
    assert Case.objects.count() == 1 and OnlineReport.objects.count() == 1
    assert CaseNumberCounter.objects.get().last_serial == 1  # the serial given back


@pytest.mark.django_db
def test_each_draft_has_its_own_key(world: Any) -> None:
    client = Client(REMOTE_ADDR="10.0.0.1")
    first = _drafted(client)
    _send(client)
    second = _drafted(client)
    assert first["key"] != second["key"]
    _send(client)
    assert Case.objects.count() == 2


@pytest.mark.django_db
def test_a_draft_from_before_the_keys_is_sent(world: Any) -> None:
    client = Client(REMOTE_ADDR="10.0.0.1")
    draft = _drafted(client)
    session = client.session
    session[views.DRAFT_KEY] = {k: v for k, v in draft.items() if k != "key"}
    session.save()
    assert _send(client)["Location"] == reverse("online:report_done")
    assert Case.objects.get().submission_key is not None


@pytest.mark.django_db(transaction=True)
def test_two_posts_at_once_send_one_opinion(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two threads post 发送 on one session; both have read the draft when they meet
    at the barrier in front of the service. PostgreSQL (or SQLite in a file)."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pytest.skip("needs a file-based SQLite database or PostgreSQL")
    client = Client(REMOTE_ADDR="10.0.0.1")
    _drafted(client)
    barrier = threading.Barrier(2, timeout=20)
    submit = services.online_report_submit

    def side_by_side(**kwargs: Any) -> Any:
        barrier.wait()
        return submit(**kwargs)

    monkeypatch.setattr(views.services, "online_report_submit", side_by_side)
    answers: list[Any] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            twin = Client(REMOTE_ADDR="10.0.0.1")
            twin.cookies = client.cookies
            answers.append(_send(twin))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert [a["Location"] for a in answers] == [reverse("online:report_done")] * 2
    assert Case.objects.count() == 1 and OnlineReport.objects.count() == 1
    assert CaseNumberCounter.objects.get().last_serial == 1
