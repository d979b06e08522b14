from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "minyi.core"
    verbose_name = "基础"

    def ready(self):
        from minyi.core import security  # noqa: F401  (connects the login signal)
