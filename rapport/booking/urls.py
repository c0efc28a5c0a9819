from django.urls import URLPattern, path

from rapport.booking import feeds
from rapport.booking.views import client, practice

app_name = "booking"

# Pages: client booking flow and token links (views/client.py), the therapist's practice
# pages (views/practice.py), and the private calendar feed (feeds.py).
urlpatterns: list[URLPattern] = [
    path("calendar/<str:token>.ics", feeds.calendar_feed, name="calendar_feed"),
    # The client's side: no account needed; e-mailed links carry a signed token.
    path("therapists/<uuid:public_id>/book/", client.consultation_book, name="consultation_book"),
    path(
        "therapists/<uuid:public_id>/book/<str:starts_at>/",
        client.consultation_book_time,
        name="consultation_book_time",
    ),
    path(
        "consultations/confirm-email/<str:token>/",
        client.client_email_confirm,
        name="client_email_confirm",
    ),
    path("consultations/<str:token>/", client.consultation_manage, name="consultation_manage"),
    path(
        "consultations/<str:token>/cancel/",
        client.consultation_cancel,
        name="consultation_cancel",
    ),
    path(
        "consultations/<str:token>/reschedule/",
        client.consultation_reschedule,
        name="consultation_reschedule",
    ),
    path(
        "consultations/<str:token>/calendar.ics",
        client.consultation_calendar,
        name="consultation_calendar",
    ),
    # The therapist's practice (signed in, with MFA).
    path("practice/", practice.practice_home, name="practice_home"),
    path(
        "practice/appointments/<uuid:public_id>/confirm/",
        practice.practice_confirm,
        name="practice_confirm",
    ),
    path(
        "practice/appointments/<uuid:public_id>/decline/",
        practice.practice_decline,
        name="practice_decline",
    ),
    path(
        "practice/appointments/<uuid:public_id>/cancel/",
        practice.practice_cancel,
        name="practice_cancel",
    ),
    path(
        "practice/appointments/<uuid:public_id>/reschedule/",
        practice.practice_reschedule,
        name="practice_reschedule",
    ),
    path(
        "practice/appointments/<uuid:public_id>/first-session/",
        practice.practice_first_session,
        name="practice_first_session",
    ),
    path("practice/availability/", practice.practice_availability, name="practice_availability"),
    path("practice/availability/windows/", practice.practice_windows, name="practice_windows"),
    path(
        "practice/availability/method/",
        practice.practice_consultation_method,
        name="practice_consultation_method",
    ),
    path(
        "practice/availability/exceptions/",
        practice.practice_exception_add,
        name="practice_exception_add",
    ),
    path(
        "practice/availability/exceptions/remove/",
        practice.practice_exception_remove,
        name="practice_exception_remove",
    ),
    path("practice/calendar/", practice.practice_calendar, name="practice_calendar"),
    path("practice/listing/", practice.practice_listing, name="practice_listing"),
]
