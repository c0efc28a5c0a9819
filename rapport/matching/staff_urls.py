"""Matching's staff pages, under /staff/ (second factor required by that prefix)."""

from django.urls import URLPattern, path

from rapport.matching import staff_views

# Its own namespace: the app's other pages are "matching:", and one namespace per include.
app_name = "matching_staff"

urlpatterns: list[URLPattern] = [
    path("staff/matching/exposure/", staff_views.exposure, name="exposure"),
]
