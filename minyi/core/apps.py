from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "minyi.core"
    verbose_name = "基础"

    def ready(self):
        from minyi.core import account_cache, generations, markup, security  # noqa: F401  (security: the login signal)

        account_cache.connect()
        generations.connect()
        markup.install()
