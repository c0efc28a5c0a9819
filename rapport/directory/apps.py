from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "rapport.directory"
    label = "directory"
    verbose_name = "Directory"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from rapport.core.housekeeping import register_housekeeping_step
        from rapport.core.privacy import register_erasure_step, register_export_section
        from rapport.directory import services, shortlist
        from rapport.directory.privacy import therapist_profile_export
        from rapport.directory.triggers import register_directory_triggers

        register_export_section("therapist_profile", therapist_profile_export)
        # A signed-in person's saved therapists: exported, erased with the account, and the
        # session's list merged in at sign-in.
        register_export_section("shortlist", shortlist.shortlist_export)
        register_erasure_step("shortlist", lambda user: shortlist.shortlist_erase(user=user))
        user_logged_in.connect(
            shortlist.merge_on_sign_in, dispatch_uid="rapport.directory.shortlist_on_sign_in"
        )
        register_directory_triggers()
        register_housekeeping_step(
            "listing notices queued", lambda now: services.stale_listings_warn(now=now)
        )
