from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CasesConfig(AppConfig):
    name = "minyi.cases"
    verbose_name = "社情民意"

    def ready(self) -> None:
        from minyi.cases import choice_cache
        from minyi.cases.deadlines import recompute_case_deadlines
        from minyi.cases.delivery import CHANNELS
        from minyi.workdays.recompute import register_deadline_recomputer

        # A channel name nothing answers to would leave every reporter's copy failing at
        # send time, found days later; refuse to start instead (gunicorn runs ready()
        # too, unlike the system checks). A deployment's own channel registers in CHANNELS.
        # "internal" only marks a copy read in the system: a reporter has no account.
        reporter_channels = sorted(set(CHANNELS) - {"internal"})
        if settings.MINYI_REPORTER_CHANNEL not in reporter_channels:
            raise ImproperlyConfigured(
                f"MINYI_REPORTER_CHANNEL must be one of {', '.join(reporter_channels)}, "
                f"not {settings.MINYI_REPORTER_CHANNEL!r} (minyi.cases.delivery)"
            )
        register_deadline_recomputer(recompute_case_deadlines)
        choice_cache.connect()
