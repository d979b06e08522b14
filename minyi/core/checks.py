"""System checks of a deployment's data, run by `manage.py check --deploy` (the gate of
every deployment, docs/operations.md): cheap queries, never a walk of the media folder,
and nothing at all per request."""

from __future__ import annotations

import os
from typing import Any

from django.core.checks import CheckMessage, Error, Tags, register
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Count

from minyi.core.models import PendingSeal
from minyi.core.sealing_existing import sealed_fields, unsealed


def _has_database(alias: str) -> bool:
    """False for a SQLite file that does not exist yet (a fresh checkout, CI's check of
    the production settings): opening it would create it, and it holds no files."""
    connection = connections[alias]
    if connection.vendor != "sqlite":
        return True
    name = str(connection.settings_dict["NAME"])
    return name == ":memory:" or "mode=memory" in name or os.path.exists(name)


@register(Tags.security, deploy=True)
def private_files_sealed(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Files stored before sealing stay plain until `manage.py seal_private_files` has
    run once after the upgrade (minyi.core.sealed_files); nothing else would say so. It
    counts the files still plain without opening one: the rows with a file and no key
    (one count per sealed model, each through its partial index of unsealed rows), and
    the rows whose key a sealing run committed and whose sealed copy it has not yet put
    in place (`PendingSeal`: a run killed there leaves the file plain with a key)."""
    if not _has_database(DEFAULT_DB_ALIAS):
        return []
    try:
        pending = dict(PendingSeal.objects.values_list("label").annotate(Count("pk")).order_by())
        counts = {
            str(model._meta.verbose_name): unsealed(model, field).count()
            + pending.get(model._meta.label, 0)
            for model, field in sealed_fields()
        }
    except DatabaseError:
        # Not migrated yet (no tables, or no file_key columns): `migrate` comes first,
        # and the next check counts.
        return []
    total = sum(counts.values())
    if not total:
        return []
    parts = "、".join(f"{label} {count} 个" for label, count in counts.items() if count)
    return [
        Error(
            f"还有 {total} 个私有文件未加密（{parts}）：升级前保存的文件仍是明文。",
            hint=(
                "升级后须运行一次 manage.py seal_private_files（可在系统运行时执行，"
                "中断后重跑即可）；它报告“文件不存在”的记录，确认文件已丢失后用 "
                "--forget-missing 记下。见 docs/operations.md。"
            ),
            id="minyi.E001",
        )
    ]
