from django.apps import AppConfig


class DutiesConfig(AppConfig):
    name = "minyi.duties"
    verbose_name = "代表履职"

    def ready(self) -> None:
        from minyi.duties import tallies

        tallies.connect()
