"""Staff pages of the care app, under /staff/ (second factor required by that prefix)."""

from django.urls import URLPattern, path

from rapport.care import staff_views

# Its own namespace: the app's other pages are "care:", and one namespace per include.
app_name = "care_staff"

urlpatterns: list[URLPattern] = [
    path("staff/instruments/", staff_views.instrument_list, name="instruments"),
    path(
        "staff/instruments/<slug:slug>/<str:version>/",
        staff_views.instrument_detail,
        name="instrument_detail",
    ),
]
