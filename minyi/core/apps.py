from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "minyi.core"
    verbose_name = "基础"

    def ready(self):
        from minyi.core import (  # noqa: F401  (security: the login signal; checks: registered)
            account_cache,
            checks,
            generations,
            markup,
            security,
            stamped_links,
        )

        account_cache.connect()
        generations.connect()
        stamped_links.connect()
        markup.install()
        # Django 6.1's blank choice, "- Select an option -", is not in Django's Chinese
        # catalogue, so every select without an empty_label of its own showed English.
        # Django's deprecation note names this as the way to set it (docs/decisions.md).
        from django.db.models import fields

        fields.BLANK_CHOICE_LABEL = "请选择"
