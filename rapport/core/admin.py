from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rapport.core.models import Jurisdiction

admin.site.site_header = "Rapport administration"
admin.site.site_title = "Rapport admin"
admin.site.index_title = "Administration"


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin[Jurisdiction]):
    """Read-only: the rows come from a migration and every licence and office points at them,
    so an edit here would silently relabel real records."""

    list_display = ("code", "name", "country_code")
    list_filter = ("country_code",)
    # Also what autocomplete on licences and offices searches.
    search_fields = ("code", "name")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
