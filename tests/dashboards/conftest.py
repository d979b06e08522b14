from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from minyi.people.models import User
from tests.core.helpers import client_for
from tests.personas import PERSONAS


@pytest.fixture
def client_factory(world: Any) -> Callable[[str], Client]:
    """A logged-in client for a persona named as in tests/personas.py."""

    def make(persona: str) -> Client:
        return client_for(User.objects.get(username=PERSONAS[persona]))

    return make
