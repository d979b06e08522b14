"""The account and token forms offer only the roles the issuer can give a fitting unit
for: a district's department was offered 市委组织部 and 市委工委, which it could only have
been refused (no city unit, no committee in its area)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from minyi.people.models import Role
from tests.core.helpers import client_for

pytestmark = pytest.mark.django_db


def _offered(response: Any) -> set[str]:
    return {value for value, _label in response.context["form"].fields["role"].choices}


@pytest.mark.parametrize("url", ["apitokens:create", "people:account_create"])
def test_a_district_is_offered_only_roles_it_can_give(district_official: Any, url: str) -> None:
    offered = _offered(client_for(district_official).get(reverse(url)))
    assert Role.CITY_OFFICIAL not in offered and Role.COMMITTEE_OFFICIAL not in offered
    assert {Role.DISTRICT_OFFICIAL, Role.STREET_OFFICIAL, Role.HANDLING_UNIT_STAFF} <= offered


def test_the_city_is_offered_every_role(city_official: Any) -> None:
    offered = _offered(client_for(city_official).get(reverse("people:account_create")))
    assert set(Role.values) <= offered
