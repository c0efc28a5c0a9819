from django.apps import AppConfig


class VideosConfig(AppConfig):
    name = "rapport.videos"
    label = "videos"
    verbose_name = "Video introductions"

    def ready(self) -> None:
        from rapport.core.housekeeping import register_housekeeping_step
        from rapport.directory.profile_parts import register_profile_part
        from rapport.videos import services
        from rapport.videos.profile import profile_videos_part

        register_profile_part("videos", profile_videos_part)
        register_housekeeping_step(
            "abandoned video uploads removed",
            lambda now: services.abandoned_uploads_clear(now=now),
        )
        register_housekeeping_step(
            "stuck videos queued again", lambda now: services.stuck_videos_requeue(now=now)
        )
