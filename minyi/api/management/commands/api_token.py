from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from minyi.api.models import ApiToken
from minyi.api.tokens import token_revoke
from minyi.audit import record
from minyi.audit.models import Action
from minyi.people.models import User


class Command(BaseCommand):
    help = (
        "签发或吊销开放接口令牌：api_token create --user 用户名 --name 名称；api_token revoke ID。"
        "按角色和单位签发（专用账号）请在“接口令牌”页面操作。"
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("--user", required=True)
        create.add_argument("--name", required=True)
        revoke = sub.add_parser("revoke")
        revoke.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"没有启用的账号“{options['user']}”。")
            token, secret = ApiToken.issue(user=user, name=options["name"])
            self.stdout.write(f"令牌 {token.pk}（{token.name}，账号 {user.username}）：")
            self.stdout.write(secret)
            self.stdout.write("令牌只显示这一次，请妥善保存。")
        else:
            found = ApiToken.objects.filter(pk=options["id"]).first()
            if found is None or not token_revoke(token=found):
                raise CommandError(f"没有未吊销的令牌 {options['id']}。")
            record(
                Action.UPDATE,
                object_type="api.apitoken",
                object_id=options["id"],
                fields=["revoked_at"],
            )
            self.stdout.write(f"令牌 {options['id']} 已吊销。")
