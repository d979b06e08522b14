from django.urls import path

from minyi.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("", views.overview, name="overview"),
]
