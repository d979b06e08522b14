"""The endpoint list at /api/v1/docs: the paths an integrator calls, as they are."""

from __future__ import annotations

from django.test import Client


def test_the_docs_page_lists_each_path_once_with_its_prefix(db: None) -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<code>/api/v1/cases</code>" in page
    assert "/api/v1/api/v1/" not in page
