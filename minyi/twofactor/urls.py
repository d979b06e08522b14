from django.urls import path

from minyi.twofactor import views

app_name = "twofactor"
urlpatterns = [
    path("enrol/", views.enrol, name="enrol"),
    path("verify/", views.verify, name="verify"),
    path("policy/", views.policy, name="policy"),
]
