from django.apps import AppConfig


class DutiesConfig(AppConfig):
    name = "minyi.duties"
    verbose_name = "代表履职"

    def ready(self) -> None:
        from minyi.duties import notify, tallies

        tallies.connect()
        notify.connect()
