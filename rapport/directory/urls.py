from django.urls import path

from rapport.directory import staff_views, views

app_name = "directory"

urlpatterns = [
    path("therapists/", views.therapist_list, name="therapist_list"),
    path("therapists/shortlist/", views.shortlist, name="shortlist"),
    path("therapists/shortlist/add/", views.shortlist_add, name="shortlist_add"),
    path("therapists/shortlist/remove/", views.shortlist_remove, name="shortlist_remove"),
    path("therapists/compare/", views.compare, name="compare"),
    path("therapists/<uuid:public_id>/", views.therapist_detail, name="therapist_detail"),
    path("staff/", staff_views.staff_figures, name="staff_figures"),
    path("staff/verification/", staff_views.verification_queue, name="verification_queue"),
    path(
        "staff/verification/<uuid:public_id>/",
        staff_views.verification_detail,
        name="verification_detail",
    ),
]
