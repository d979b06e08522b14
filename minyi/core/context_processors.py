from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    from minyi.people.scopes import scope_of

    user = getattr(request, "user", None)
    return {"scope": scope_of(user)} if user is not None else {}
