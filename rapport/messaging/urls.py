from django.urls import URLPattern, path

from rapport.messaging import views

app_name = "messaging"

# The client's threads under /messages/ (signed in); the therapist's under /practice/messages/
# (signed in, with the second factor, by the /practice/ prefix).
urlpatterns: list[URLPattern] = [
    path("messages/", views.client_inbox, name="client_inbox"),
    path("messages/open/", views.client_open, name="client_open"),
    path("messages/<uuid:public_id>/", views.client_thread, name="client_thread"),
    path("messages/<uuid:public_id>/zone/", views.client_zone, name="client_zone"),
    path(
        "messages/<uuid:public_id>/files/<uuid:attachment_id>/",
        views.client_attachment,
        name="client_attachment",
    ),
    path("practice/messages/", views.practice_inbox, name="practice_inbox"),
    path("practice/messages/settings/", views.practice_settings, name="practice_settings"),
    path("practice/messages/<uuid:public_id>/", views.practice_thread, name="practice_thread"),
    path(
        "practice/messages/<uuid:public_id>/files/<uuid:attachment_id>/",
        views.practice_attachment,
        name="practice_attachment",
    ),
]
