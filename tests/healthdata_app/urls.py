"""The site's URLs plus the test app's pages (tests switch to this with ROOT_URLCONF)."""

from django.urls import URLPattern, URLResolver, path

from rapport.urls import urlpatterns as site_urlpatterns
from tests.healthdata_app import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("test-notes/<uuid:note_id>/", views.note_detail, name="test_note_detail"),
    path("test-notes/<uuid:note_id>/broken/", views.note_broken, name="test_note_broken"),
    *site_urlpatterns,
]
