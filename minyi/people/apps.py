from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "minyi.people"
    verbose_name = "人员与账号"

    def ready(self):
        from minyi.people import scope_cache

        scope_cache.connect()
