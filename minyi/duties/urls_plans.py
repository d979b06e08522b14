"""Annual-plan pages (SM 10, 12.5)."""

from django.urls import path

from minyi.duties import views_plans as views

urlpatterns = [
    path("plans/", views.PlanList.as_view(), name="plan_list"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/sessions/", views.plan_session_add, name="plan_session_add"),
    path(
        "plans/<int:pk>/sessions/<int:session_pk>/remove/",
        views.plan_session_remove,
        name="plan_session_remove",
    ),
    path("plans/<int:pk>/submit/", views.plan_submit, name="plan_submit"),
    path("plans/<int:pk>/approve/", views.plan_approve, name="plan_approve"),
    path("plans/<int:pk>/return/", views.plan_return, name="plan_return"),
]
