from django.urls import path

from rapport.directory import import_views, shortlist_views, staff_views, views
from rapport.directory.onboarding import views as onboarding

app_name = "directory"

urlpatterns = [
    path("therapists/", views.therapist_list, name="therapist_list"),
    path("therapists/shortlist/", shortlist_views.shortlist, name="shortlist"),
    path("therapists/shortlist/add/", shortlist_views.shortlist_add, name="shortlist_add"),
    path("therapists/shortlist/remove/", shortlist_views.shortlist_remove, name="shortlist_remove"),
    path("therapists/compare/", shortlist_views.compare, name="compare"),
    path("therapists/<uuid:public_id>/", views.therapist_detail, name="therapist_detail"),
    path("staff/", staff_views.staff_figures, name="staff_figures"),
    path("staff/verification/", staff_views.verification_queue, name="verification_queue"),
    path(
        "staff/verification/<uuid:public_id>/",
        staff_views.verification_detail,
        name="verification_detail",
    ),
    path("staff/import/", import_views.therapist_import, name="therapist_import"),
    # The therapist's own profile: onboarding steps, then the same pages to edit it.
    path("practice/profile/", onboarding.overview, name="practice_profile"),
    path("practice/profile/start/", onboarding.start, name="practice_profile_start"),
    path("practice/profile/about/", onboarding.about, name="practice_profile_about"),
    path("practice/profile/licence/", onboarding.licence, name="practice_profile_licence"),
    path("practice/profile/topics/", onboarding.topics, name="practice_profile_topics"),
    path("practice/profile/style/", onboarding.style, name="practice_profile_style"),
    path("practice/profile/fees/", onboarding.fees, name="practice_profile_fees"),
    path("practice/profile/where/", onboarding.where, name="practice_profile_where"),
    path(
        "practice/profile/where/offices/<int:office_id>/",
        onboarding.office_edit,
        name="practice_office_edit",
    ),
    path(
        "practice/profile/where/offices/<int:office_id>/remove/",
        onboarding.office_remove,
        name="practice_office_remove",
    ),
    path("practice/profile/contact/", onboarding.contact, name="practice_profile_contact"),
    path(
        "practice/profile/availability/",
        onboarding.availability,
        name="practice_profile_availability",
    ),
    path("practice/profile/videos/", onboarding.videos, name="practice_profile_videos"),
    path("practice/profile/preview/", onboarding.preview, name="practice_profile_preview"),
    path("practice/profile/submit/", onboarding.submit, name="practice_profile_submit"),
    path(
        "therapists/<uuid:public_id>/photo.jpg", onboarding.therapist_photo, name="therapist_photo"
    ),
]
