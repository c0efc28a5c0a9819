from django.apps import AppConfig


class VideosConfig(AppConfig):
    name = "rapport.videos"
    label = "videos"
    verbose_name = "Video introductions"
