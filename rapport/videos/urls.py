from django.urls import URLPattern, path

from rapport.videos import staff_views, views

app_name = "videos"

urlpatterns: list[URLPattern] = [
    # Playback: access-checked in the view (published and listed, the owner, or a moderator).
    path("videos/<uuid:public_id>/video.mp4", views.video_media, name="video_media"),
    path("videos/<uuid:public_id>/poster.jpg", views.video_poster, name="video_poster"),
    path("videos/<uuid:public_id>/captions.vtt", views.video_captions_track, name="captions"),
    # The therapist's video page and its upload endpoints (signed in, with MFA).
    path("practice/videos/", views.practice_videos, name="practice_videos"),
    path("practice/videos/uploads/", views.upload_start, name="upload_start"),
    path("practice/videos/uploads/<uuid:public_id>/", views.upload_detail, name="upload_detail"),
    path(
        "practice/videos/uploads/<uuid:public_id>/complete/",
        views.upload_complete,
        name="upload_complete",
    ),
    path(
        "practice/videos/uploads/<uuid:public_id>/cancel/",
        views.upload_cancel,
        name="upload_cancel",
    ),
    path("practice/videos/<uuid:public_id>/status/", views.video_status, name="video_status"),
    path(
        "practice/videos/<uuid:public_id>/captions/",
        views.video_captions,
        name="video_captions",
    ),
    path(
        "practice/videos/<uuid:public_id>/captions/remove/",
        views.video_captions_remove,
        name="video_captions_remove",
    ),
    path(
        "practice/videos/<uuid:public_id>/transcript/",
        views.video_transcript,
        name="video_transcript",
    ),
    path("practice/videos/<uuid:public_id>/delete/", views.video_delete, name="video_delete"),
    # Staff review.
    path("staff/videos/", staff_views.review_queue, name="review_queue"),
    path("staff/videos/<uuid:public_id>/", staff_views.review_detail, name="review_detail"),
]
