"""Filled in by the duties pages for events."""

urlpatterns: list = []
