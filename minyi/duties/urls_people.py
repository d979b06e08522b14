"""Appointments (public booking and staff side), household visits, notifications,
the duty record and the bi-monthly reports."""

from django.urls import path

from minyi.duties import views_people as v

urlpatterns = [
    path("public/events/<int:event_pk>/book/", v.public_booking, name="public_booking"),
    path(
        "public/events/<int:event_pk>/book/done/",
        v.public_booking_done,
        name="public_booking_done",
    ),
    path("appointments/", v.AppointmentList.as_view(), name="appointment_list"),
    path("appointments/<int:pk>/", v.appointment_detail, name="appointment_detail"),
    path("appointments/<int:pk>/booker/", v.appointment_booker, name="appointment_booker"),
    path("appointments/<int:pk>/confirm/", v.appointment_confirm, name="appointment_confirm"),
    path("appointments/<int:pk>/cancel/", v.appointment_cancel, name="appointment_cancel"),
    path("appointments/<int:pk>/no-show/", v.appointment_no_show, name="appointment_no_show"),
    path("appointments/<int:pk>/attended/", v.appointment_attended, name="appointment_attended"),
    path("appointments/<int:pk>/case/", v.appointment_link_case, name="appointment_link_case"),
    path("notifications/", v.notification_list, name="notification_list"),
    path("notifications/read/", v.notification_read, name="notification_read"),
    path("visits/", v.VisitList.as_view(), name="visit_list"),
    path("visits/new/", v.visit_create, name="visit_create"),
    path("visits/<int:pk>/", v.visit_detail, name="visit_detail"),
    path("visits/<int:pk>/edit/", v.visit_edit, name="visit_edit"),
    path("visits/<int:pk>/withdraw/", v.visit_withdraw, name="visit_withdraw"),
    path("representatives/<int:pk>/record/", v.duty_record, name="duty_record"),
    path("reports/", v.ReportList.as_view(), name="report_list"),
    path("reports/new/", v.report_create, name="report_create"),
    path("reports/<int:pk>/", v.report_detail, name="report_detail"),
    path("reports/<int:pk>/edit/", v.report_edit, name="report_edit"),
    path("reports/<int:pk>/redraft/", v.report_redraft, name="report_redraft"),
    path("reports/<int:pk>/submit/", v.report_submit, name="report_submit"),
    path("reports/<int:pk>/acknowledge/", v.report_acknowledge, name="report_acknowledge"),
]
