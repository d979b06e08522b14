"""The summary and the circular's annex as Excel workbooks: one sheet of studios
(five scores, total, outcome), one of handling units (answers, ratings)."""

from __future__ import annotations

from minyi.evaluation.excel import Sheet, workbook
from minyi.evaluation.models import Criterion, EvaluationRound
from minyi.evaluation.summary import RATING_LABELS, Summary


def _studio_sheet(summary: Summary, *, scores: bool) -> Sheet:
    headers = ["区（新区）", "街道", "工作室"]
    if scores:
        headers += [*Criterion.labels, "总分"]
    headers += ["评估结果", "说明"]
    rows = []
    for line in summary.studios:
        row: list = [line.district, line.street, line.studio]
        if scores:
            row += [*line.scores, line.total]
        row += [line.outcome or "未评定", line.reason]
        rows.append(row)
    widths = [12, 14, 28] + ([12] * 6 if scores else []) + [14, 40]
    return Sheet(
        "工作室评估结果", f"{summary.year}年度“五好”党代表工作室评估结果", headers, rows, widths
    )


def _unit_sheet(summary: Summary) -> Sheet:
    headers = ["承办单位", "负责区域", "书面答复（件）", "按期答复（件）", *RATING_LABELS]
    headers += ["评议合计（件）", "满意率（%）"]
    rows = [
        [
            u.unit,
            u.area,
            u.answered,
            u.on_time,
            *u.counts,
            u.rated,
            u.satisfied_rate if u.satisfied_rate is not None else "无评议",
        ]
        for u in summary.units
    ]
    title = f"{summary.year}年度承办单位社情民意办理评议汇总"
    return Sheet("承办单位评议汇总", title, headers, rows, [28, 14] + [12] * 8)


def summary_workbook(round: EvaluationRound, summary: Summary) -> bytes:
    return workbook([_studio_sheet(summary, scores=True), _unit_sheet(summary)])


def circular_workbook(round: EvaluationRound, summary: Summary) -> bytes:
    return workbook([_studio_sheet(summary, scores=False), _unit_sheet(summary)])
