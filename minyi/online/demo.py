"""A demo online report for `make run` (journeys 6 and 7 from the resident's side): a
resident's opinion sent through the online studio, sent on by the studio, referred and
answered, so that anyone can follow it at /online/ with its number and the demo
progress code, read the answer and rate it (不满意 sends it round the loop again).

A real progress code exists only on the resident's screen; the demo's is fixed and
printed by `load_demo`, like the demo accounts' password. Idempotent: nothing is added
when the demo studio already has an online report."""

from __future__ import annotations

from django.db import transaction

from minyi.cases import services as case_services
from minyi.cases.models import Case
from minyi.online import codes
from minyi.online.models import OnlineReport
from minyi.online.services import online_report_submit
from minyi.org.models import HandlingUnit
from minyi.people.models import Representative, User
from minyi.studios.models import Studio

STUDIO = "沙头角社区党代表工作室"
# From the progress codes' alphabet (no 0/O, 1/I/L), as a resident would be shown one.
DEMO_PROGRESS_CODE = "DEMA-3579"


@transaction.atomic
def build_demo_online_report() -> Case | None:
    studio = Studio.objects.get(name=STUDIO)
    if OnlineReport.objects.filter(case__studio=studio).exists():
        return None
    report, _ = online_report_submit(
        studio=studio,
        representative=Representative.objects.get(name="演示代表·陈明"),
        data={
            "reporter_name": "演示居民·赵阿婆",
            "reporter_phone": "+8613800007777",
            "summary": "小区门口人行道被共享单车占满",
            "content": "海山路演示小区门口的人行道每天早上停满共享单车，轮椅和婴儿车过不去。",
        },
    )
    report.progress_code_hash = codes.hash_progress_code(DEMO_PROGRESS_CODE)
    report.save(update_fields=["progress_code_hash"])
    case = case_services.case_send_to_street(
        case=report.case, actor=User.objects.get(username="liaison")
    )
    case = case_services.case_refer(
        case=case,
        actor=User.objects.get(username="shatoujiao"),
        handling_unit=HandlingUnit.objects.get(name="沙头角街道城市管理办公室"),
    )
    case_services.case_answer(
        case=case,
        actor=User.objects.get(username="unit"),
        text="已通知共享单车企业清运，并在小区门口划定停放区。",
        result="已清运并划定停放区",
    )
    return Case.objects.get(pk=case.pk)
