from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from minyi.duties.views_compliance import sees_compliance
from minyi.people.models import Representative
from minyi.people.scopes import scope_of


def hub(request: HttpRequest) -> HttpResponse:
    """The duties start page: every duties list the user can reach, in one place."""
    scope = scope_of(request.user)
    own = Representative.objects.filter(pk__in=scope.representative_ids).first()
    return render(
        request,
        "duties/hub.html",
        {"own_representative": own, "scope": scope, "sees_compliance": sees_compliance(scope)},
    )
