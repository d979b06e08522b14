"""Commands that must never write into a deployment's database."""

from __future__ import annotations

from django.conf import settings
from django.core.management import CommandError


def refuse_in_production(what: str) -> None:
    """The demo's and the load generator's accounts have passwords printed in the README
    and in the commands' output: in a deployment they would be open doors (the demo's
    `admin` is a superuser). Checked before anything is written."""
    if settings.MINYI_PRODUCTION:
        raise CommandError(
            f"生产环境（config.settings_production）不能{what}：其账号的密码是公开的。"
            "请在开发或测试环境中运行。"
        )
