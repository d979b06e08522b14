"""The hash chain: each row's hash is SHA-256 over its canonical content, which includes the
previous row's hash. Changing, inserting or deleting a row in the middle breaks the chain at
that row; `manage.py verify_audit` finds the first broken link."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
# The columns the hash covers, in this order (the id is not: it is assigned by the database
# after the hash is computed; order is checked through prev_hash instead).
HASHED = (
    "at",
    "actor_id",
    "actor_name",
    "actor_role",
    "actor_unit_id",
    "ip",
    "action",
    "object_type",
    "object_id",
    "result",
    "fields",
    "detail",
    "request_id",
    "prev_hash",
)


def _canonical_value(name: str, value: Any) -> Any:
    if name == "at":
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if name == "fields":
        return list(value or [])
    if value == "" and name == "ip":
        return None
    return value


def digest(row: dict[str, Any]) -> str:
    content = {name: _canonical_value(name, row.get(name)) for name in HASHED}
    blob = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class Break:
    pk: int
    at: datetime
    reason: str


def verify(rows: Iterator[dict[str, Any]]) -> tuple[int, Break | None]:
    """Walk the rows in id order. The first row's prev_hash is taken as the anchor (rows older
    than the retention period may have been purged before it). Returns (rows checked, first
    break or None)."""
    previous: str | None = None
    count = 0
    for row in rows:
        count += 1
        if previous is not None and row["prev_hash"] != previous:
            return count, Break(
                row["id"], row["at"], "上一条记录的哈希不符（记录被删除、插入或改动）"
            )
        if digest(row) != row["hash"]:
            return count, Break(row["id"], row["at"], "本条记录的内容与哈希不符（记录被改动）")
        previous = row["hash"]
    return count, None
