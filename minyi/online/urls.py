"""The online studio for residents (issue 6): public, no login."""

from django.urls import path

from minyi.online import views

app_name = "online"
urlpatterns = [
    path("", views.find_studio, name="find"),
    path("studios/<int:pk>/", views.studio_page, name="studio"),
    path("representatives/<int:pk>/photo/", views.representative_photo, name="photo"),
    path("studios/<int:pk>/report/", views.report_form, name="report_form"),
    path("studios/<int:pk>/report/check/", views.report_check, name="report_check"),
    path("report/done/", views.report_done, name="report_done"),
    path("report/withdraw/", views.report_withdraw, name="report_withdraw"),
    path("progress/find/", views.lookup, name="lookup"),
    path("progress/sms/", views.code_request, name="code_request"),
    path("progress/sms/check/", views.code_check, name="code_check"),
    path("progress/", views.progress, name="progress"),
    path("progress/extend/", views.progress_extend, name="progress_extend"),
    path("progress/rate/", views.progress_rate, name="progress_rate"),
    path("progress/leave/", views.progress_leave, name="progress_leave"),
]
