"""Forms of the evaluation pages. Ranges and types are checked here; the rules that
span fields (a reason for an adjusted score, an outcome that fits the scores) are the
services' (`minyi.evaluation.services`), so no caller can skip them."""

from __future__ import annotations

from typing import Any

from django import forms

from minyi.core.text_limits import ACCOUNT_MAX, NOTE_MAX, REPORT_MAX
from minyi.core.widgets import Textarea
from minyi.evaluation.models import MAX_SCORE, Criterion, StudioAssessment, StudioOutcome

SCORE_ERRORS = {
    "invalid": "分数应为 0 到 20 之间的整数。",
    "min_value": f"分数应在 0 到 {MAX_SCORE} 之间。",
    "max_value": f"分数应在 0 到 {MAX_SCORE} 之间。",
}


class AssessmentForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label="评估结果",
        required=False,
        choices=[("", "（暂不评定）"), *StudioOutcome.choices],
        error_messages={"invalid_choice": "请选择有效的评估结果。"},
    )
    outcome_reason = forms.CharField(
        label="结果说明",
        required=False,
        max_length=ACCOUNT_MAX,
        widget=Textarea(attrs={"rows": 3}),
        help_text="通报批评、责令撤销，或与按得分建议的结果不同时，须写明事实和理由。",
    )

    def __init__(self, *args: Any, assessment: StudioAssessment, **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("version", assessment.version)
        initial.setdefault("outcome", assessment.outcome)
        initial.setdefault("outcome_reason", assessment.outcome_reason)
        super().__init__(*args, **kwargs)
        for row in getattr(assessment, "ordered_scores", []):
            label = row.get_criterion_display()
            self.fields[f"score_{row.criterion}"] = forms.IntegerField(
                label=f"{label}：调整为",
                required=False,
                min_value=0,
                max_value=MAX_SCORE,
                error_messages=SCORE_ERRORS,
                initial=row.adjusted_score,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "score"}),
            )
            self.fields[f"reason_{row.criterion}"] = forms.CharField(
                label=f"{label}：调整理由",
                required=False,
                max_length=NOTE_MAX,
                initial=row.reason,
                widget=Textarea(attrs={"rows": 2}),
            )

    def criterion_inputs(self) -> dict[str, Any]:
        from minyi.evaluation.services import CriterionInput

        d = self.cleaned_data
        return {
            c: CriterionInput(d.get(f"score_{c}"), d.get(f"reason_{c}") or "")
            for c in Criterion.values
            if f"score_{c}" in self.fields
        }


class RoundOpenForm(forms.Form):
    year = forms.IntegerField(
        label="年度",
        min_value=2000,
        max_value=2100,
        error_messages={
            "invalid": "年度应为四位数字。",
            "min_value": "年度应在 2000 到 2100 之间。",
            "max_value": "年度应在 2000 到 2100 之间。",
            "required": "请填写年度。",
        },
    )


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class CircularForm(VersionForm):
    title = forms.CharField(label="标题", max_length=200)
    body = forms.CharField(label="正文", max_length=REPORT_MAX, widget=Textarea(attrs={"rows": 16}))


class DecisionForm(VersionForm):
    note = forms.CharField(
        label="市委意见",
        required=False,
        max_length=ACCOUNT_MAX,
        widget=Textarea(attrs={"rows": 3}),
    )
