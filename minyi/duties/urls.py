"""Duties pages, one module per area so they can grow independently."""

from django.urls import include, path

from minyi.duties.views_hub import hub

app_name = "duties"
urlpatterns = [
    path("", hub, name="hub"),
    path("", include("minyi.duties.urls_plans")),
    path("", include("minyi.duties.urls_events")),
    path("", include("minyi.duties.urls_people")),
    path("", include("minyi.duties.urls_compliance")),
]
