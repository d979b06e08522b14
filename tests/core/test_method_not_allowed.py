"""A step that only takes a POST, opened with a GET: a Chinese page with a way back.

The ordinary way to get there: the session ends while a form is open, its POST goes to
the login page with ?next= the step's address, and after logging in the browser GETs it.
Django's own answer is an empty 405, a white page."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from minyi.core.demo import DEMO_PASSWORD
from minyi.studios.models import Studio
from tests.core.helpers import client_for, text_of


def test_logging_in_again_after_a_timed_out_step_shows_a_page_back_to_the_studio(
    world: Any,
) -> None:
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    step = reverse("studios:assignment_add", args=[studio.pk])
    client = Client()
    # The form's POST after the session ended: to the login page, with the step as next.
    sent = client.post(step)
    assert sent.status_code == 302 and f"next={step}" in sent["Location"]
    landed = client.post(
        f"{reverse('login')}?next={step}",
        {"username": "shatoujiao", "password": DEMO_PASSWORD, "next": step},
        follow=True,
    )
    assert landed.status_code == 405
    page = text_of(landed)
    assert "请从页面上的按钮操作" in page
    assert "刚才的操作没有保存" in page
    assert f'href="{reverse("studios:detail", args=[studio.pk])}"' in page
    assert landed["Allow"] == "POST"


def test_a_step_with_no_page_above_it_leads_home(world: Any, liaison: Any) -> None:
    response = client_for(liaison).get(reverse("logout"))
    assert response.status_code == 405
    assert 'href="/"' in text_of(response)


def test_a_residents_step_stays_on_the_residents_pages(db: None) -> None:
    response = Client().get(reverse("online:progress_rate"))
    assert response.status_code == 405
    page = text_of(response)
    assert "网上党代表工作室" in page
    assert f'href="{reverse("online:progress")}"' in page


def test_the_api_keeps_its_own_answer(world: Any, liaison: Any) -> None:
    response = client_for(liaison).get("/api/v1/cases/1/confirm")
    assert "请从页面上的按钮操作" not in text_of(response)
