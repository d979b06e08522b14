from django.contrib import admin
from django.urls import include, path

import minyi.api.urls as minyi_api_urls

urlpatterns = [
    path("", include("minyi.core.urls")),
    path("org/", include("minyi.org.urls")),
    path("people/", include("minyi.people.urls")),
    path("studios/", include("minyi.studios.urls")),
    path("cases/", include("minyi.cases.urls")),
    path("duties/", include("minyi.duties.urls")),
    path("documents/", include("minyi.documents.urls")),
    path("evaluation/", include("minyi.evaluation.urls")),
    path("dashboards/", include("minyi.dashboards.urls")),
    path("api/v1/", minyi_api_urls.urls),
    path("api-tokens/", include("minyi.api.urls_pages")),
    path("online/", include("minyi.online.urls")),
    path("admin/", admin.site.urls),
    path("audit/", include("minyi.audit.urls")),
    path("security/", include("minyi.twofactor.urls")),
]
