from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "minyi.dashboards"
    verbose_name = "统计图表"
