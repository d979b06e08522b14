"""Filled in by the duties pages for compliance."""

urlpatterns: list = []
