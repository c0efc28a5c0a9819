from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "rapport.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.core import checks
        from django.db.models.signals import post_migrate

        from rapport.core import triggers
        from rapport.core.audit import register_audit_log_triggers

        register_audit_log_triggers()
        # Sent once per app after every migrate; installing is idempotent, so once for this
        # app is enough.
        post_migrate.connect(
            triggers.install_after_migrate,
            sender=self,
            dispatch_uid="rapport.core.triggers.install_after_migrate",
        )
        checks.register(triggers.check_sqlite_triggers)
