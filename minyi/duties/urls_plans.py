"""Filled in by the duties pages for plans."""

urlpatterns: list = []
