"""A reporter's request to see or delete their data (PIPL art. 45, 47), run by an
administrator: `export` writes every case and appointment found through the phone digests
as JSON; `erase` anonymises them at once. Both are recorded with the operator's name."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from minyi.cases.models import Case, CaseStep
from minyi.cases.retention import ANONYMOUS, anonymise, cases_of_reporter
from minyi.cases.states import Action
from minyi.core.crypto import phone_digest
from minyi.core.names import mask_name
from minyi.people.models import User

CASE_FIELDS = [
    "number",
    "received_on",
    "channel",
    "occasion",
    "category",
    "reporter_name",
    "reporter_gender",
    "reporter_age",
    "reporter_phone",
    "reporter_employer",
    "reporter_employer_address",
    "reporter_home_address",
    "reporter_home_phone",
    "hide_identity_from_unit",
    "summary",
    "content",
    "state",
    "final_rating",
    "closed_at",
    "anonymised_at",
]


def _case_record(case: Case) -> dict[str, Any]:
    record = {name: getattr(case, name) for name in CASE_FIELDS}
    record["studio"] = str(case.studio)
    record["representative"] = case.representative_name
    record["handling_unit"] = str(case.handling_unit or "")
    record["answers"] = [
        {"unit": str(a.handling_unit), "answered_on": a.answered_on, "text": a.text}
        for a in case.answers.all()
    ]
    record["attachments"] = [a.original_name for a in case.attachments.all()]
    record["timeline"] = [
        {"at": s.at, "action": s.get_action_display(), "text": s.text} for s in case.steps.all()
    ]
    record["viewed_in_full_by"] = [
        {"at": v.at, "viewer": str(v.viewer)} for v in case.personal_data_views.all()
    ]
    return record


class Command(BaseCommand):
    help = "反映人查询或删除本人信息：export 导出（JSON），erase 匿名化；须注明操作人。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["export", "erase"])
        parser.add_argument("--phone", required=True, help="反映人登记的电话（手机或住宅电话）")
        parser.add_argument("--operator", required=True, help="执行此操作的管理员用户名")

    def handle(self, *args: object, **options: Any) -> None:
        try:
            operator = User.objects.get(username=options["operator"], is_active=True)
        except User.DoesNotExist as exc:
            raise CommandError(f"没有用户名为“{options['operator']}”的在用账号。") from exc
        if not operator.is_superuser:
            raise CommandError("只有系统管理员可以处理个人信息查询和删除请求。")
        digest = phone_digest(options["phone"])
        if not digest:
            raise CommandError(f"“{options['phone']}”不是有效的电话号码。")
        cases = cases_of_reporter(options["phone"])
        if options["action"] == "export":
            self._export(cases, digest, operator)
        else:
            done = anonymise(
                list(cases), actor=operator, reason=f"应反映人要求删除（操作人：{operator}）"
            )
            from minyi.duties.models import Appointment

            # update() skips pre_save: the masked name and phone the lists print are set here.
            appointments = Appointment.objects.filter(phone_digest=digest).update(
                name=ANONYMOUS,
                name_masked=mask_name(ANONYMOUS),
                phone="",
                phone_digest="",
                phone_masked="",
            )
            self.stdout.write(f"已匿名化 {done} 件案件、{appointments} 条预约。")

    @transaction.atomic
    def _export(self, cases: Any, digest: str, operator: User) -> None:
        from minyi.duties.models import Appointment

        found = list(
            cases.select_related("studio", "handling_unit").prefetch_related(
                "answers__handling_unit", "attachments", "steps", "personal_data_views__viewer"
            )
        )
        appointments = (
            Appointment.objects.filter(phone_digest=digest)
            .select_related("event")
            .prefetch_related("booker_views__viewer")
        )
        data = {
            "cases": [_case_record(case) for case in found],
            "appointments": [
                {
                    "event": str(a.event),
                    "name": a.name,
                    "phone": a.phone,
                    "topic": a.topic,
                    "state": a.get_state_display(),
                    "created_at": a.created_at,
                    # Who saw their name and phone in full, as for a case.
                    "viewed_in_full_by": [
                        {"at": v.at, "viewer": str(v.viewer)} for v in a.booker_views.all()
                    ],
                }
                for a in appointments
            ],
        }
        # The export is itself a full view of each case: on the timeline, with who ran it.
        CaseStep.objects.bulk_create(
            CaseStep(
                case=case,
                action=Action.NOTE,
                actor=operator,
                state_before=case.state,
                state_after=case.state,
                text=f"应反映人要求导出其个人信息（操作人：{operator}）",
            )
            for case in found
        )
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str))
