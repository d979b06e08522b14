from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "minyi.org"
    verbose_name = "组织架构"
