"""The access matrix: every URL of the application, for every persona, answers the
status declared here. A URL without a declared rule fails the test, so no page can
ship without someone deciding who may reach it. Out of scope answers 404, the same
as a record that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from minyi.org.models import HandlingUnit, OrgUnit
from minyi.people.models import Liaison, Representative
from minyi.studios.models import Studio
from tests.personas import PERSONAS

ALL = set(PERSONAS) - {"anonymous"}
OFFICIALS_OF_SHATOUJIAO = {"admin", "city_official", "district_official", "street_official"}


def _studio(w: Any) -> dict[str, int]:
    return {"pk": Studio.objects.get(name="沙头角社区党代表工作室").pk}


def _rep(w: Any) -> dict[str, int]:
    return {"pk": Representative.objects.get(name="演示代表·陈明").pk}


def _liaison(w: Any) -> dict[str, int]:
    return {"pk": Liaison.objects.get(name="演示联络员·张伟").pk}


def _community(w: Any) -> dict[str, int]:
    return {"pk": w["440308003006"].pk}


def _empty_community(w: Any) -> dict[str, int]:
    return {"pk": OrgUnit.objects.get(code="440308003003").pk}


def _handling_unit(w: Any) -> dict[str, int]:
    return {"pk": HandlingUnit.objects.get(name="沙头角街道城市管理办公室").pk}


def _assignment(w: Any) -> dict[str, int]:
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    return {"pk": studio.pk, "assignment_pk": studio.assignments.first().pk}


@dataclass
class Rule:
    """`ok` personas get `ok_status`; everyone else logged in gets `other`; anonymous
    visitors are sent to the login page (302) unless `anonymous` says otherwise."""

    ok: set[str]
    ok_status: int = 200
    other: int = 404
    anonymous: int = 302
    method: str = "get"
    kwargs: Callable[[Any], dict[str, Any]] | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def expected(self, persona: str) -> int:
        if persona == "anonymous":
            return self.anonymous
        return self.ok_status if persona in self.ok else self.other


SCOPED_READERS = OFFICIALS_OF_SHATOUJIAO | {"liaison", "representative"}

RULES: dict[str, Rule] = {
    "home": Rule(ok=ALL),
    "login": Rule(ok=ALL, anonymous=200),
    "logout": Rule(ok=ALL, ok_status=302, method="post", anonymous=302),
    "studios:list": Rule(ok=ALL),
    "studios:create": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}),
    "studios:detail": Rule(ok=SCOPED_READERS, kwargs=_studio),
    "studios:plaque": Rule(ok=SCOPED_READERS, kwargs=_studio),
    "studios:edit": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"liaison"}, kwargs=_studio),
    "studios:assignment_add": Rule(
        ok=OFFICIALS_OF_SHATOUJIAO, ok_status=400, method="post", kwargs=_studio
    ),
    "studios:assignment_remove": Rule(
        ok=OFFICIALS_OF_SHATOUJIAO, ok_status=302, method="post", kwargs=_assignment
    ),
    "people:representative_list": Rule(ok=ALL),
    "people:representative_create": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}),
    "people:representative_detail": Rule(ok=SCOPED_READERS, kwargs=_rep),
    "people:representative_edit": Rule(ok=OFFICIALS_OF_SHATOUJIAO, kwargs=_rep),
    # No demo representative has a photo, so everyone gets 404; photo serving has its own test.
    "people:representative_photo": Rule(ok=set(), kwargs=_rep),
    "people:liaison_list": Rule(ok=ALL),
    "people:liaison_create": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}),
    "people:liaison_edit": Rule(ok=OFFICIALS_OF_SHATOUJIAO, kwargs=_liaison),
    "org:unit_list": Rule(ok=ALL),
    "org:unit_create": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}),
    "org:unit_detail": Rule(ok=SCOPED_READERS, kwargs=_community),
    "org:unit_edit": Rule(ok=OFFICIALS_OF_SHATOUJIAO, kwargs=_community),
    "org:unit_retire": Rule(
        ok=OFFICIALS_OF_SHATOUJIAO, ok_status=302, method="post", kwargs=_empty_community
    ),
    "org:unit_merge": Rule(
        ok=OFFICIALS_OF_SHATOUJIAO, ok_status=302, method="post", kwargs=_empty_community
    ),
    "org:handlingunit_list": Rule(ok=ALL),
    "org:handlingunit_create": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}),
    "org:handlingunit_edit": Rule(ok=OFFICIALS_OF_SHATOUJIAO, kwargs=_handling_unit),
}


def _url_names(resolver: URLResolver | None = None, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            ns = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names |= _url_names(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{prefix}{entry.name}")
        else:
            names.add(f"{prefix}<unnamed {entry.pattern}>")
    return names


def test_every_url_has_a_declared_rule() -> None:
    undeclared = _url_names() - set(RULES)
    assert not undeclared, (
        f"URLs without an access rule in tests/test_access_matrix.py: {undeclared}"
    )
    assert not set(RULES) - _url_names(), "rules for URLs that no longer exist"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", list(PERSONAS))
@pytest.mark.parametrize("name", sorted(RULES))
def test_each_persona_gets_the_declared_status(world: Any, persona: str, name: str) -> None:
    rule = RULES[name]
    client = Client()
    username = PERSONAS[persona]
    if username:
        client.force_login(_user(username))
    url = reverse(name, kwargs=rule.kwargs(world) if rule.kwargs else None)
    response = getattr(client, rule.method)(url, rule.data)
    assert response.status_code == rule.expected(persona), (
        f"{persona} {rule.method.upper()} {url}: got {response.status_code}, "
        f"expected {rule.expected(persona)}"
    )


def _user(username: str) -> Any:
    from minyi.people.models import User

    return User.objects.get(username=username)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", list(PERSONAS))
def test_admin_is_for_superusers_only(world: Any, persona: str) -> None:
    client = Client()
    if PERSONAS[persona]:
        client.force_login(_user(PERSONAS[persona]))
    response = client.get("/admin/")
    assert response.status_code == (200 if persona == "admin" else 302)
