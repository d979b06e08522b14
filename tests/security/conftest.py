import pytest

from minyi.people.models import User

PASSWORD = "Qiang-Mima-2026!"


@pytest.fixture
def account(world) -> User:
    user = User.objects.create_user(username="anquan", password=PASSWORD, full_name="安全测试")
    user.unit = world["440308003"]
    user.role = "street_official"
    user.save()
    return user
