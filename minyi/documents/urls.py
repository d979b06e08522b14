from django.urls import path

from minyi.documents import views

app_name = "documents"
urlpatterns = [
    path("cases/<int:pk>/form.pdf", views.case_form, name="case_form"),
    path("cases/<int:pk>/ledger.pdf", views.case_ledger, name="case_ledger"),
    path("representatives/<int:pk>/record.pdf", views.duty_record, name="duty_record"),
    path("studios/<int:pk>/ledger.pdf", views.studio_ledger, name="studio_ledger"),
    path("reports/<int:pk>/report.pdf", views.bimonthly_report, name="bimonthly_report"),
]
