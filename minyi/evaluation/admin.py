from django.contrib import admin

from minyi.core.admin import ModelAdmin, StackedInline
from minyi.evaluation.models import Circular, CriterionScore, EvaluationRound, StudioAssessment


@admin.register(EvaluationRound)
class EvaluationRoundAdmin(ModelAdmin):
    list_display = ["year", "state", "prefilled_at", "finalised_at"]
    readonly_fields = ["version"]


class CriterionScoreInline(StackedInline):
    # Stacked, not tabular: Django's table gives the fields column headings and no
    # <label>, which axe counts as critical (label, select-name).
    model = CriterionScore
    extra = 0
    readonly_fields = ["criterion", "prefilled_score", "evidence"]


@admin.register(StudioAssessment)
class StudioAssessmentAdmin(ModelAdmin):
    list_display = ["studio", "round", "outcome", "assessed_by", "assessed_at"]
    list_filter = ["round", "outcome"]
    search_fields = ["studio__name"]
    inlines = [CriterionScoreInline]
    readonly_fields = ["version"]


admin.site.register(Circular, ModelAdmin)
