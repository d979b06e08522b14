"""A many-to-many change moves its owner's version (minyi.core.stamped_links): an edit
page loaded before someone else changed a representative's linked communities or an
event's representatives is refused (409) instead of putting the old links back, and a
page's links are not lost to a change made after it was loaded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.urls import reverse

from minyi.duties.models import Event, EventState
from minyi.people.models import Representative
from tests.core.helpers import client_for, post_data_from, text_of
from tests.duties.test_appointments import CHEN, LIN, make_event
from tests.org.test_tree_editing import SHATOUJIAO, TIANXIN

REFUSED = "这条记录已被他人修改"
PAST = datetime(2020, 1, 1, tzinfo=UTC)


def _opened(user: Any, url: str) -> tuple[Any, dict[str, Any]]:
    """An edit page opened by `user`: its client and the form as it would post it."""
    client = client_for(user)
    return client, post_data_from(client.get(url))


def _links(rep: Representative) -> set[int]:
    return set(rep.linked_communities.values_list("pk", flat=True))


def test_a_representative_page_loaded_before_a_links_change_is_refused(
    street_official: Any, world: Any
) -> None:
    chen = Representative.objects.get(name=CHEN)
    assert _links(chen) == {world[SHATOUJIAO].pk}
    url = reverse("people:representative_edit", args=[chen.pk])
    client, data = _opened(street_official, url)
    # Another path, from the other side of the relation (as the admin or a script might).
    world[TIANXIN].linked_representatives.add(chen)
    refused = client.post(url, {**data, "employer": "页面上填写的单位"})
    assert refused.status_code == 409 and REFUSED in text_of(refused)
    chen.refresh_from_db()
    assert chen.employer != "页面上填写的单位"
    assert _links(chen) == {world[SHATOUJIAO].pk, world[TIANXIN].pk}  # not put back


def test_every_kind_of_links_change_moves_the_version_and_no_change_does_not(
    world: Any,
) -> None:
    chen = Representative.objects.get(name=CHEN)

    def moved(change: Any) -> bool:
        Representative.objects.filter(pk=chen.pk).update(updated_at=PAST)
        change()
        return Representative.objects.get(pk=chen.pk).updated_at > PAST

    tianxin = world[TIANXIN]
    assert moved(lambda: chen.linked_communities.add(tianxin))
    assert not moved(lambda: chen.linked_communities.add(tianxin))  # already linked
    assert moved(lambda: chen.linked_communities.remove(tianxin))
    assert not moved(lambda: chen.linked_communities.set([world[SHATOUJIAO]]))  # the same
    assert moved(lambda: chen.linked_communities.set([tianxin]))
    assert moved(lambda: chen.linked_communities.clear())
    assert moved(lambda: tianxin.linked_representatives.add(chen))
    assert moved(lambda: tianxin.linked_representatives.clear())
    assert _links(chen) == set()


def test_an_event_page_loaded_before_its_representatives_changed_is_refused(
    liaison: Any,
) -> None:
    event = make_event(state=EventState.PLANNED, reps=(CHEN,))
    url = reverse("duties:event_edit", args=[event.pk])
    client, data = _opened(liaison, url)
    # Someone else adds 林秀英 to the links alone (the event services save the event
    # too, which moved the version already; a script or a later service need not).
    Representative.objects.get(name=LIN).events.add(event)
    refused = client.post(url, {**data, "place": "页面上填写的地点"})
    assert refused.status_code == 409 and REFUSED in text_of(refused)
    event = Event.objects.get(pk=event.pk)
    assert event.place != "页面上填写的地点"
    assert set(event.representatives.values_list("name", flat=True)) == {CHEN, LIN}


def test_a_page_s_own_save_of_links_leaves_it_a_version_to_save_again_with(
    street_official: Any, world: Any
) -> None:
    # The page's own links change moves the version after its save; the page reloaded
    # after it carries the new one and saves again.
    chen = Representative.objects.get(name=CHEN)
    url = reverse("people:representative_edit", args=[chen.pk])
    client, data = _opened(street_official, url)
    linked = [str(world[SHATOUJIAO].pk), str(world[TIANXIN].pk)]
    saved = client.post(url, {**data, "linked_communities": linked})
    assert saved.status_code == 302, text_of(saved)
    assert _links(chen) == {world[SHATOUJIAO].pk, world[TIANXIN].pk}
    data = post_data_from(client.get(url))
    assert client.post(url, {**data, "employer": "再改一次"}).status_code == 302
