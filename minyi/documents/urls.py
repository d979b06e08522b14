from django.urls import path

from minyi.documents import views, views_excel, views_import

app_name = "documents"
urlpatterns = [
    path("cases/<int:pk>/form.pdf", views.case_form, name="case_form"),
    path("cases/<int:pk>/ledger.pdf", views.case_ledger, name="case_ledger"),
    path("representatives/<int:pk>/record.pdf", views.duty_record, name="duty_record"),
    path("studios/<int:pk>/ledger.pdf", views.studio_ledger, name="studio_ledger"),
    path("reports/<int:pk>/report.pdf", views.bimonthly_report, name="bimonthly_report"),
    path("exports/<slug:kind>.xlsx", views_excel.export_list, name="export"),
    path("exports/<int:pk>/", views_excel.export_job, name="export_job"),
    path("exports/<int:pk>/download/", views_excel.export_download, name="export_download"),
    path("imports/<slug:kind>/", views_import.import_start, name="import"),
    path("imports/<slug:kind>/template.xlsx", views_import.import_template, name="import_template"),
    path("imports/check/<int:pk>/", views_import.import_detail, name="import_detail"),
    path("imports/check/<int:pk>/commit/", views_import.import_commit, name="import_commit"),
]
