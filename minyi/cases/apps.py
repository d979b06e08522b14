from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "minyi.cases"
    verbose_name = "社情民意"

    def ready(self) -> None:
        from minyi.cases import choice_cache
        from minyi.cases.deadlines import recompute_case_deadlines
        from minyi.workdays.recompute import register_deadline_recomputer

        register_deadline_recomputer(recompute_case_deadlines)
        choice_cache.connect()
