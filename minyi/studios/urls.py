from django.urls import path

from minyi.studios import views

app_name = "studios"
urlpatterns = [
    path("", views.StudioList.as_view(), name="list"),
    path("new/", views.StudioFormPage.as_view(), name="create"),
    path("<int:pk>/", views.studio_detail, name="detail"),
    path("<int:pk>/edit/", views.StudioFormPage.as_view(), name="edit"),
    path("<int:pk>/plaque/", views.studio_plaque, name="plaque"),
    path("<int:pk>/assignments/", views.assignment_add, name="assignment_add"),
    path(
        "<int:pk>/assignments/<int:assignment_pk>/remove/",
        views.assignment_remove,
        name="assignment_remove",
    ),
]
