from django.urls import path

from minyi.org import views

app_name = "org"
urlpatterns = [
    path("units/", views.OrgUnitList.as_view(), name="unit_list"),
    path("units/new/", views.OrgUnitFormPage.as_view(), name="unit_create"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("units/<int:pk>/edit/", views.OrgUnitFormPage.as_view(), name="unit_edit"),
    path("units/<int:pk>/retire/", views.unit_retire_view, name="unit_retire"),
    path("units/<int:pk>/merge/", views.unit_merge_view, name="unit_merge"),
    path("handling-units/", views.HandlingUnitList.as_view(), name="handlingunit_list"),
    path("handling-units/new/", views.HandlingUnitFormPage.as_view(), name="handlingunit_create"),
    path(
        "handling-units/<int:pk>/edit/",
        views.HandlingUnitFormPage.as_view(),
        name="handlingunit_edit",
    ),
]
