from django.urls import path

from minyi.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("", views.index, name="index"),
    path("open/", views.round_open, name="round_open"),
    path("<int:pk>/", views.round_detail, name="round"),
    path("<int:pk>/refresh/", views.round_refresh, name="round_refresh"),
    path("<int:pk>/finalise/", views.round_finalise, name="round_finalise"),
    path("<int:pk>/reopen/", views.round_reopen, name="round_reopen"),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment"),
    path("<int:pk>/summary/", views.summary, name="summary"),
    path("<int:pk>/summary.pdf", views.summary_pdf, name="summary_pdf"),
    path("<int:pk>/summary.xlsx", views.summary_xlsx, name="summary_xlsx"),
    path("<int:pk>/circular/", views.circular, name="circular"),
    path("<int:pk>/circular/edit/", views.circular_edit, name="circular_edit"),
    path("<int:pk>/submit/", views.round_submit, name="round_submit"),
    path("<int:pk>/return/", views.round_return, name="round_return"),
    path("<int:pk>/approve/", views.round_approve, name="round_approve"),
    path("<int:pk>/circular.pdf", views.circular_pdf, name="circular_pdf"),
    path("<int:pk>/circular.xlsx", views.circular_xlsx, name="circular_xlsx"),
]
