"""发送 posted twice on one session, both posts reading the draft before either drops
it, sends one opinion: the draft carries a one-time key (minyi.core.once) that the case
stores under a unique constraint."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from minyi.cases.models import Case, CaseNumberCounter
from minyi.online import views
from minyi.online.models import OnlineReport
from tests.at_once import at_once, meeting_first, needs_a_shared_database
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


def _old_style(client: Client) -> dict[str, Any]:
    """A draft as saved before drafts had keys (a session from before that deploy)."""
    draft = {k: v for k, v in _drafted(client).items() if k != "key"}
    session = client.session
    session[views.DRAFT_KEY] = draft
    session.save()
    return draft


@pytest.mark.django_db
def test_a_draft_from_before_the_keys_is_sent(world: Any) -> None:
    client = Client(REMOTE_ADDR="10.0.0.1")
    _old_style(client)
    assert _send(client)["Location"] == reverse("online:report_done")
    assert Case.objects.get().submission_key is not None
    assert views.DRAFT_KEY not in client.session
    assert client.session[views.SENT_KEY]["report"] == OnlineReport.objects.get().pk


@pytest.mark.django_db
def test_a_post_that_read_a_draft_from_before_the_keys_after_the_first_sent_it_sends_nothing(
    world: Any,
) -> None:
    """The race of an old-style draft, one post after the other: both posts derive the
    same key from the session and the draft, so the second makes no case."""
    client = Client(REMOTE_ADDR="10.0.0.1")
    _old_style(client)
    read = client.session
    key, data = read.session_key, dict(read.items())
    assert key is not None
    assert _send(client)["Location"] == reverse("online:report_done")
    # Sending gave the session a new key (minyi.online.views._grant); the second post
    # comes with the cookie it was sent with and the session as it read it.
    Session.objects.create(
        session_key=key,
        session_data=read.encode(data),
        expire_date=timezone.now() + timedelta(hours=1),
    )
    late = Client(REMOTE_ADDR="10.0.0.1")
    late.cookies[settings.SESSION_COOKIE_NAME] = key
    again = _send(late)
    assert again.status_code == 302 and again["Location"] == reverse("online:report_done")
    assert Case.objects.count() == 1 and OnlineReport.objects.count() == 1
    assert CaseNumberCounter.objects.get().last_serial == 1


@pytest.mark.django_db
def test_old_style_drafts_of_two_sessions_have_keys_of_their_own(world: Any) -> None:
    one, other = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    _old_style(one)
    _old_style(other)  # the same opinion, word for word
    _send(one)
    _send(other)
    assert Case.objects.count() == 2
    assert len(set(Case.objects.values_list("submission_key", flat=True))) == 2


def _both_send(client: Client, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Two threads post 发送 on `client`'s session; both have read the draft when they
    meet at the barrier in front of the service."""
    meeting_first(monkeypatch, views.services, "online_report_submit")

    def post() -> Any:
        twin = Client(REMOTE_ADDR="10.0.0.1")
        twin.cookies = client.cookies
        return _send(twin)

    return at_once(post)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("draft", [_drafted, _old_style], ids=["keyed", "from-before-the-keys"])
def test_two_posts_at_once_send_one_opinion(
    world: Any, monkeypatch: pytest.MonkeyPatch, draft: Any
) -> None:
    """PostgreSQL (or SQLite in a file)."""
    needs_a_shared_database()
    client = Client(REMOTE_ADDR="10.0.0.1")
    draft(client)
    answers = _both_send(client, monkeypatch)
    assert [a["Location"] for a in answers] == [reverse("online:report_done")] * 2
    assert Case.objects.count() == 1 and OnlineReport.objects.count() == 1
    assert CaseNumberCounter.objects.get().last_serial == 1
    # The winner's session stands: the draft gone, the confirmation there.
    assert views.DRAFT_KEY not in client.session
    assert client.session[views.SENT_KEY]["report"] == OnlineReport.objects.get().pk
