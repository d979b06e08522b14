from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "minyi.evaluation"
    verbose_name = "年度评估"
