from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "rapport.directory"
    label = "directory"
    verbose_name = "Directory"

    def ready(self) -> None:
        from rapport.core.housekeeping import register_housekeeping_step
        from rapport.core.privacy import register_export_section
        from rapport.directory import services
        from rapport.directory.privacy import therapist_profile_export
        from rapport.directory.triggers import register_directory_triggers

        register_export_section("therapist_profile", therapist_profile_export)
        register_directory_triggers()
        register_housekeeping_step(
            "listing notices queued", lambda now: services.stale_listings_warn(now=now)
        )
