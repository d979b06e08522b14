"""A short-lived cache of the public studio page's content (issue 8: residents' most
read page, the same for everyone who opens it).

Only what the page shows to anyone without a login is cached: the studio's published
facts, its active representatives as on the plaque and its published events with the
places left; never a case, a session or a CSP nonce (the residents' pages carry no
script). Any save or delete of a model the page reads bumps one generation number, so
the next view renders afresh; the time limit bounds what a write without signals
(queryset.update, bulk_create) could leave stale, and the four-week window's start.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from minyi.core import generations

SECONDS = 60
GENERATION_KEY = "online:public-generation"


def generation() -> int:
    return generations.current(GENERATION_KEY)


def key(kind: str, pk: int) -> str:
    return f"online:{kind}:{generation()}:{pk}"


def _bump(**kwargs: Any) -> None:
    generations.bump(GENERATION_KEY)


def connect() -> None:
    from minyi.duties.models import Appointment, Event
    from minyi.org.models import OrgUnit
    from minyi.people.models import Representative
    from minyi.studios.models import Studio, StudioAssignment

    for model in (Studio, StudioAssignment, Representative, Event, Appointment, OrgUnit):
        post_save.connect(_bump, sender=model, dispatch_uid=f"online-public-save-{model}")
        post_delete.connect(_bump, sender=model, dispatch_uid=f"online-public-delete-{model}")
    m2m_changed.connect(
        _bump, sender=Event.representatives.through, dispatch_uid="online-public-event-reps"
    )
