from django.urls import path

from minyi.people import account_views, views

app_name = "people"
urlpatterns = [
    path("representatives/", views.RepresentativeList.as_view(), name="representative_list"),
    path(
        "representatives/new/", views.RepresentativeFormPage.as_view(), name="representative_create"
    ),
    path("representatives/<int:pk>/", views.representative_detail, name="representative_detail"),
    path(
        "representatives/<int:pk>/edit/",
        views.RepresentativeFormPage.as_view(),
        name="representative_edit",
    ),
    path(
        "representatives/<int:pk>/photo/", views.representative_photo, name="representative_photo"
    ),
    path("liaisons/", views.LiaisonList.as_view(), name="liaison_list"),
    path("liaisons/new/", views.LiaisonFormPage.as_view(), name="liaison_create"),
    path("liaisons/<int:pk>/edit/", views.LiaisonFormPage.as_view(), name="liaison_edit"),
    path("accounts/", account_views.AccountList.as_view(), name="account_list"),
    path("accounts/new/", account_views.AccountFormPage.as_view(), name="account_create"),
    path("accounts/<int:pk>/edit/", account_views.AccountFormPage.as_view(), name="account_edit"),
]
