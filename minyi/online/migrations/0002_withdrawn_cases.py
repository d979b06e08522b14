# Before cases had a 已撤回 state, a resident's online withdrawal set
# OnlineReport.withdrawn_at and left a note on a case still 已登记（待报送街道）, open in
# the studio's queue. This ends those cases' lives as a withdrawal does now: the state
# 已撤回, `closed_at` at the moment of withdrawal (retention counts from it) and a
# withdrawal step on the timeline, written at that moment. A withdrawn case the studio
# sent on regardless is left where it is: it has been handled since.
#
# Backwards: the cases go back to 已登记 without `closed_at`, and their withdrawal steps
# become notes (the earlier code knows no withdrawal step), so that the timeline still
# tells the studio not to send them on. This is the one place a step is changed other
# than anonymisation, and only when the code is rolled back.
from django.db import migrations
from django.db.models import F

REGISTERED, WITHDRAWN = "registered", "withdrawn"
WITHDRAW, NOTE = "withdraw", "note"
TEXT = "反映人已于 {at} 在网上撤回本件，不再办理（升级时由备注补记为“已撤回”）。"


def withdraw(apps, schema_editor):
    OnlineReport = apps.get_model("online", "OnlineReport")
    Case = apps.get_model("cases", "Case")
    CaseStep = apps.get_model("cases", "CaseStep")
    from django.utils import timezone

    reports = OnlineReport.objects.filter(
        withdrawn_at__isnull=False, case__state=REGISTERED
    ).values_list("case_id", "withdrawn_at")
    for case_id, withdrawn_at in reports.iterator(chunk_size=500):
        at = timezone.localtime(withdrawn_at)
        step = CaseStep.objects.create(
            case_id=case_id,
            action=WITHDRAW,
            state_before=REGISTERED,
            state_after=WITHDRAWN,
            text=TEXT.format(at=f"{at:%Y-%m-%d %H:%M}"),
        )
        # `at` is auto_now_add: set after the insert, to the moment it happened.
        CaseStep.objects.filter(pk=step.pk).update(at=withdrawn_at)
        Case.objects.filter(pk=case_id, state=REGISTERED).update(
            state=WITHDRAWN, closed_at=withdrawn_at, version=F("version") + 1
        )


def unwithdraw(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    CaseStep = apps.get_model("cases", "CaseStep")
    withdrawn = Case.objects.filter(state=WITHDRAWN)
    CaseStep.objects.filter(case__in=withdrawn, action=WITHDRAW).update(
        action=NOTE, state_after=REGISTERED
    )
    withdrawn.update(state=REGISTERED, closed_at=None, version=F("version") + 1)


class Migration(migrations.Migration):
    dependencies = [
        ("online", "0001_initial"),
        ("cases", "0013_withdrawn_state"),
    ]

    operations = [migrations.RunPython(withdraw, unwithdraw)]
