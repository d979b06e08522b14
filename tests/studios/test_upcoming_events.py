from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from minyi.duties.models import Event, EventKind, EventState
from minyi.studios.models import Studio


@pytest.mark.django_db
def test_the_studio_page_announces_published_events_only(world, liaison):
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    start = timezone.now() + timedelta(days=8)
    for theme, state in [
        ("公开的接待日", EventState.PUBLISHED),
        ("尚未预告的座谈", EventState.PLANNED),
    ]:
        Event.objects.create(
            studio=studio,
            kind=EventKind.RECEPTION,
            theme=theme,
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            state=state,
        )
    client = Client()
    client.force_login(liaison)
    page = client.get(studio.get_absolute_url()).content.decode()
    assert "公开的接待日" in page
    assert "尚未预告的座谈" not in page
    assert "calendar.ics" in page
