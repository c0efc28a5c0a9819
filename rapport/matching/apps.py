from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "rapport.matching"
    label = "matching"
    verbose_name = "Matching"

    def ready(self) -> None:
        from importlib import import_module

        from rapport.core.audit import register_health_model
        from rapport.matching.models import FitProfile, MatchOutcome

        # Everything in a fit profile is what a person said about their own health; an outcome
        # is derived from their check-in answers, or from an engagement they ended as not the
        # right fit (no check-in then).
        register_health_model(FitProfile, owner_field="owner")
        register_health_model(
            MatchOutcome,
            owner_field=("check_in_part__check_in__engagement__client", "engagement__client"),
        )
        # Each part registers what it adds to other apps (hooks, export, erasure) itself.
        for module in ("learning", "privacy", "sharing", "views_rematch"):
            import_module(f"rapport.matching.{module}").register()
        # Refused answers and feedback read as API problems (before the API is built).
        import_module("rapport.matching.api").register_api_problems()
