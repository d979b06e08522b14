"""Event pages, the public list and calendar feeds, and the July activity month."""

from django.urls import path

from minyi.duties import ical
from minyi.duties import views_events as views

urlpatterns = [
    path("events/", views.EventList.as_view(), name="event_list"),
    path("events/new/", views.event_create, name="event_create"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
    path("events/<int:pk>/edit/", views.event_edit, name="event_edit"),
    path("events/<int:pk>/publish/", views.event_publish, name="event_publish"),
    path("events/<int:pk>/cancel/", views.event_cancel, name="event_cancel"),
    path("events/<int:pk>/record/", views.event_record, name="event_record"),
    path("public/events/", views.public_events, name="public_events"),
    path("studios/<int:pk>/calendar.ics", ical.studio_calendar, name="studio_calendar"),
    path(
        "representatives/<int:pk>/calendar.ics",
        ical.representative_calendar,
        name="representative_calendar",
    ),
    path("activity-month/", views.activity_month, name="activity_month"),
    path("activity-month/<int:year>/edit/", views.activity_month_edit, name="activity_month_edit"),
]
