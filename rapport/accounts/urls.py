from django.urls import path

from rapport.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account_overview, name="overview"),
    path("privacy/", views.privacy, name="privacy"),
    path("privacy/export.json", views.export_json, name="export_json"),
    path("privacy/export/", views.export_html, name="export_html"),
    path("privacy/delete/", views.deletion_request, name="deletion_request"),
    path("privacy/keep/", views.deletion_cancel, name="deletion_cancel"),
]
