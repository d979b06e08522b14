from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "minyi.documents"
    verbose_name = "打印文书"
