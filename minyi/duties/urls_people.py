"""Filled in by the duties pages for people."""

urlpatterns: list = []
