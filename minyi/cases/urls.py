from django.urls import path

from minyi.cases import views, views_attachments
from minyi.online import views_staff as online_staff

app_name = "cases"
urlpatterns = [
    path("", views.CaseList.as_view(), name="list"),
    path("new/", views.case_create, name="create"),
    path("ledger/", views.Ledger.as_view(), name="ledger"),
    path("studio-suggestions/", views.studio_suggestions, name="studio_suggestions"),
    path("category-suggestions/", views.category_suggestions, name="category_suggestions"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/reporter/", views.case_reporter, name="reporter"),
    path("<int:pk>/progress-code/", online_staff.progress_code_give, name="progress_code"),
    path("<int:pk>/progress-code/slip/", online_staff.progress_slip, name="progress_slip"),
    path("<int:pk>/confirm/", views.step_view("confirm"), name="confirm"),
    path("<int:pk>/send/", views.step_view("send"), name="send"),
    path("<int:pk>/refer/", views.step_view("refer"), name="refer"),
    path("<int:pk>/escalate/", views.step_view("escalate"), name="escalate"),
    path("<int:pk>/return/", views.step_view("return"), name="return"),
    path("<int:pk>/extension/", views.step_view("extension"), name="extension"),
    path(
        "<int:pk>/extension/decide/",
        views.step_view("extension_decide"),
        name="extension_decide",
    ),
    path("<int:pk>/plan/", views.step_view("plan"), name="plan"),
    path("<int:pk>/answer/", views.step_view("answer"), name="answer"),
    path("<int:pk>/urge/", views.step_view("urge"), name="urge"),
    path("<int:pk>/consult/", views.step_view("consult"), name="consult"),
    path("<int:pk>/evaluate/", views.step_view("evaluate"), name="evaluate"),
    path("<int:pk>/carry-forward/", views.step_view("carry_forward"), name="carry_forward"),
    path("<int:pk>/note/", views.step_view("note"), name="note"),
    path("<int:pk>/attachments/", views_attachments.attachment_add, name="attachment_add"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/",
        views_attachments.attachment_download,
        name="attachment",
    ),
]
