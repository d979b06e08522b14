"""Issue 7 item 2, the parts not covered in test_logins.py: the Argon2 variant actually
produced, and deactivation deleting the account's sessions (not only refusing them)."""

from django.contrib.auth.hashers import Argon2PasswordHasher, make_password
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tests.security.conftest import PASSWORD


def test_passwords_are_hashed_with_argon2id():
    # The hasher that settings.PASSWORD_HASHERS puts first (test_logins checks that).
    hasher = Argon2PasswordHasher()
    encoded = make_password("Lu-Shui-Qing-Shan-2026", hasher=hasher)
    algorithm, variety, *_ = encoded.split("$")
    assert (algorithm, variety) == ("argon2", "argon2id")
    assert hasher.verify("Lu-Shui-Qing-Shan-2026", encoded)
    assert not hasher.verify("Lu-Shui-Qing-Shan-2025", encoded)


def _sessions_of(user) -> list[Session]:
    return [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)
    ]


def test_deactivating_an_account_deletes_its_sessions(account, street_official):
    first, second = Client(), Client()
    for client in (first, second):
        response = client.post(reverse("login"), {"username": "anquan", "password": PASSWORD})
        assert response.status_code == 302
    other = Client()
    other.force_login(street_official)
    assert len(_sessions_of(account)) == 2
    account.is_active = False
    account.save()
    assert _sessions_of(account) == []
    # Someone else's session is untouched.
    assert len(_sessions_of(street_official)) == 1
    assert first.get(reverse("home")).status_code == 302


def test_deactivating_through_the_account_page_ends_the_sessions(account, city_official):
    client = Client()
    client.post(reverse("login"), {"username": "anquan", "password": PASSWORD})
    admin = Client()
    admin.force_login(city_official)
    page = admin.get(reverse("people:account_edit", args=[account.pk]))
    form = page.context["form"]
    data = {
        name: form.initial.get(name) if form.initial.get(name) is not None else ""
        for name in form.fields
    }
    data["unit"] = account.unit_id
    data["is_active"] = ""
    data["password"] = ""
    response = admin.post(reverse("people:account_edit", args=[account.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    assert account.is_active is False
    assert _sessions_of(account) == []
