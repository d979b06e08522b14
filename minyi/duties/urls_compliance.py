"""Compliance with the duty minimums (issue 4, item 7)."""

from django.urls import path

from minyi.duties import views_compliance

urlpatterns = [
    path("compliance/", views_compliance.compliance, name="compliance"),
]
