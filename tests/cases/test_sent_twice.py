"""The registration form sent twice (a double click on 登记 at a busy reception, a
browser's resend, a retry after a slow answer) registers one case: the page's one-time
key (minyi.core.once) is stored with the case under a unique constraint."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from minyi.cases import views
from minyi.cases.models import Case, CaseNumberCounter
from minyi.core import once
from minyi.people.models import Representative, User
from minyi.studios.models import Studio
from tests.at_once import at_once, meeting_first, needs_a_shared_database
from tests.cases.test_pages import form_data
from tests.core.helpers import client_for, text_of

ALREADY = "这份登记已经提交过"


def _keys_in(page: str) -> list[str]:
    return re.findall(r'name="submission_key" value="([^"]*)"', page)


@pytest.mark.django_db
class TestSentTwice:
    def test_the_blank_form_carries_a_fresh_key(self, world: Any, liaison: User) -> None:
        client = client_for(liaison)
        first = _keys_in(text_of(client.get(reverse("cases:create"))))
        second = _keys_in(text_of(client.get(reverse("cases:create"))))
        assert len(first) == 1 and len(second) == 1 and first != second
        assert once.parse_key(first[0]) is not None

    def test_a_second_post_answers_with_the_first_case(self, world: Any, liaison: User) -> None:
        client = client_for(liaison)
        data = form_data()
        first = client.post(reverse("cases:create"), data)
        assert first.status_code == 302
        case = Case.objects.get()
        again = client.post(reverse("cases:create"), data, follow=True)
        assert again.redirect_chain[0] == (case.get_absolute_url(), 302)
        assert f"{ALREADY}，编号 {case.number}" in text_of(again)
        assert Case.objects.count() == 1
        # The second post's serial was given back: the next case is 002.
        assert CaseNumberCounter.objects.get().last_serial == 1
        client.post(reverse("cases:create"), form_data())
        assert sorted(Case.objects.values_list("serial", flat=True)) == [1, 2]

    def test_a_refused_post_keeps_its_key(self, world: Any, liaison: User) -> None:
        data = form_data(summary="")
        refused = client_for(liaison).post(reverse("cases:create"), data)
        assert refused.status_code == 400
        assert _keys_in(text_of(refused)) == [data["submission_key"]]

    @pytest.mark.parametrize("key", [None, "", "not-a-key", "12345"])
    def test_a_post_without_a_good_key_is_an_expired_page(
        self, world: Any, liaison: User, key: str | None
    ) -> None:
        response = client_for(liaison).post(reverse("cases:create"), form_data(submission_key=key))
        assert response.status_code == 400
        page = text_of(response)
        assert once.STALE in page
        assert 'value="小区门口占道经营"' in page  # what was typed stays
        [fresh] = _keys_in(page)
        assert once.parse_key(fresh) is not None and fresh != key
        assert not Case.objects.exists()
        assert not CaseNumberCounter.objects.filter(last_serial__gt=0).exists()

    def test_a_key_another_account_used_reveals_nothing(
        self, world: Any, liaison: User, representative: User
    ) -> None:
        data = form_data()
        assert client_for(liaison).post(reverse("cases:create"), data).status_code == 302
        case = Case.objects.get()
        response = client_for(representative).post(reverse("cases:create"), data)
        assert response.status_code == 409
        page = text_of(response)
        assert once.REUSED in page and case.number not in page
        assert ALREADY not in page
        [fresh] = _keys_in(page)
        assert fresh != data["submission_key"]
        assert Case.objects.count() == 1
        # With the fresh key the form registers.
        again = client_for(representative).post(
            reverse("cases:create"), data | {"submission_key": fresh}
        )
        assert again.status_code == 302 and Case.objects.count() == 2

    def test_a_key_used_at_another_studio_is_refused(self, world: Any, city_official: User) -> None:
        client = client_for(city_official)
        data = form_data()
        assert client.post(reverse("cases:create"), data).status_code == 302
        other = data | {
            "studio": Studio.objects.get(name="大梅沙社区党代表工作室").pk,
            "representative": Representative.objects.get(name="演示代表·黄海").pk,
        }
        response = client.post(reverse("cases:create"), other)
        assert response.status_code == 409
        assert once.REUSED in text_of(response)
        assert Case.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_posts_at_once_register_one_case(
    world: Any, liaison: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both posts are past their checks before either registers (a barrier in front of
    the service): the unique key decides, under the serial's lock. Against a real
    database (PostgreSQL, or SQLite in a file)."""
    needs_a_shared_database()
    meeting_first(monkeypatch, views.services, "case_register")
    cookies = client_for(liaison).cookies
    data = form_data()

    def post() -> Any:
        client = Client()
        client.cookies = cookies
        return client.post(reverse("cases:create"), data)

    answers = at_once(post)
    case = Case.objects.get()
    assert case.submission_key == uuid.UUID(data["submission_key"])
    assert [a.status_code for a in answers] == [302, 302]
    assert {a["Location"] for a in answers} == {case.get_absolute_url()}
    # The loser's serial was given back.
    assert case.serial == 1 and CaseNumberCounter.objects.get().last_serial == 1
