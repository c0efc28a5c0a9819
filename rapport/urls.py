from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from rapport.api.v1 import api as api_v1
from rapport.core.views import guide, guides, healthz, privacy_notice, terms
from rapport.directory.views import home

urlpatterns: list[URLPattern | URLResolver] = [
    path("", home, name="home"),
    # The API first: Django tries patterns in order, and an API call would otherwise be
    # matched against every page's pattern before reaching its own (~150 of them).
    path("api/v1/", api_v1.urls),
    path("", include("rapport.directory.urls")),
    path("", include("rapport.booking.urls")),
    path("", include("rapport.videos.urls")),
    path("", include("rapport.care.urls")),
    path("", include("rapport.care.staff_urls")),
    path("", include("rapport.messaging.urls")),
    path("", include("rapport.matching.urls")),
    path("", include("rapport.matching.staff_urls")),
    path("healthz", healthz, name="healthz"),
    path("terms/", terms, name="terms"),
    path("privacy/", privacy_notice, name="privacy_notice"),
    # Short plain-language guides that pages of several apps link (rapport.core.guides).
    path("guide/", guides, name="guides"),
    path("guide/<slug:slug>/", guide, name="guide"),
    # Sign-up, sign-in, e-mail verification, password reset and MFA (django-allauth).
    path("accounts/", include("allauth.urls")),
    # The signed-in person's own account, consents and privacy tools.
    path("account/", include("rapport.accounts.urls")),
    path("admin/", admin.site.urls),
]

# Uploaded photos in development; production serves media from its storage or proxy.
# static() returns no patterns when DEBUG is off.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
