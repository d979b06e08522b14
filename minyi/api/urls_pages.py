from django.urls import path

from minyi.api import views

app_name = "apitokens"
urlpatterns = [
    path("", views.token_list, name="list"),
    path("new/", views.token_create, name="create"),
    path("<int:pk>/", views.token_detail, name="detail"),
    path("<int:pk>/issued/", views.token_issued, name="issued"),
    path("<int:pk>/revoke/", views.token_revoke_view, name="revoke"),
]
