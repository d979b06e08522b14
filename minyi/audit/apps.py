from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "minyi.audit"
    verbose_name = "审计日志"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from minyi.audit import db, signals

        db.connect()
        signals.connect()
