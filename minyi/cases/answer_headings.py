"""What each written answer of a case is called on its pages.

A case is answered again only after 不满意 → 重新办理 (the REOPEN step is the only way
from 已答复 back to the unit, minyi.cases.states), so the n-th answer by primary key is
the one given after n-1 reopenings. Headed by the unit and the date alone, two answers
of one unit on one day read as the same answer twice."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def answer_heading(unit_name: str, index: int) -> str:
    """`index` counts from 0 in the order the answers were given."""
    if index == 0:
        return f"{unit_name}的答复"
    if index == 1:
        return f"{unit_name}重新办理后的答复"
    return f"{unit_name}第 {index} 次重新办理后的答复"


def head_answers(answers: Iterable[Any]) -> None:
    """Set `heading` on each answer (read with its handling unit), for the templates."""
    for index, answer in enumerate(sorted(answers, key=lambda a: a.pk)):
        answer.heading = answer_heading(answer.handling_unit.name, index)
