"""The hash chains: each row's hash is SHA-256 over its canonical content, which includes the
previous row's hash in the same lane (minyi.audit.db.LANES: the trail is several independent
chains so that writers in different lanes do not wait for each other). Changing, inserting or
deleting a row in the middle of a lane breaks that lane at that row; `manage.py verify_audit`
finds the first broken link of each lane."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
# The columns the hash covers, in this order (the id is not: it is assigned by the database
# after the hash is computed; order is checked through prev_hash instead). The lane is not
# either, so that the rows written before there were lanes (all lane 0) still verify; a row
# moved to another lane breaks the links of both lanes anyway.
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
    lane: int
    position: int  # the row's place in its lane's walk, from 1
    pk: int
    at: datetime
    reason: str


def verify(rows: Iterable[dict[str, Any]]) -> tuple[int, list[Break]]:
    """Walk the rows in id order, each lane as its own chain. The first row of a lane is taken
    as its anchor (rows older than the retention period may have been purged before it).
    Memory is one hash per lane, however many rows. Returns (rows checked, the first break
    of each broken lane, by lane)."""
    previous: dict[int, str] = {}
    positions: dict[int, int] = {}
    breaks: dict[int, Break] = {}
    count = 0
    for row in rows:
        count += 1
        lane = row["lane"]
        positions[lane] = position = positions.get(lane, 0) + 1
        if lane in breaks:
            continue
        if lane in previous and row["prev_hash"] != previous[lane]:
            reason = "上一条记录的哈希不符（记录被删除、插入或改动）"
        elif digest(row) != row["hash"]:
            reason = "本条记录的内容与哈希不符（记录被改动）"
        else:
            previous[lane] = row["hash"]
            continue
        breaks[lane] = Break(lane, position, row["id"], row["at"], reason)
    return count, [breaks[lane] for lane in sorted(breaks)]
