from django.apps import AppConfig


class HealthDataAppConfig(AppConfig):
    """Stand-in health models for testing encryption and the audit log (RAPPORT_ENV=test only)."""

    name = "tests.healthdata_app"
    label = "healthdata_app"
    verbose_name = "Health data (tests only)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rapport.core.audit import register_health_model
        from tests.healthdata_app.models import PrivateNote, Reflection

        register_health_model(PrivateNote)
        register_health_model(Reflection, owner_field="author")
