from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from auditlog.models import LogEntry  # type: ignore[import-untyped, unused-ignore]
from django.contrib import admin
from django.http import HttpRequest

from rapport.core.audit import audit_read
from rapport.core.fields import encrypted_field_names
from rapport.core.models import Jurisdiction

admin.site.site_header = "Rapport administration"
admin.site.site_title = "Rapport admin"
admin.site.index_title = "Administration"


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """An admin that shows records and never adds, changes or deletes them: for rows that come
    from elsewhere (a migration, a service, the audit trail) and must stay as they were made."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Jurisdiction)
class JurisdictionAdmin(ReadOnlyAdmin):
    """Read-only: the rows come from a migration and every licence and office points at them,
    so an edit here would silently relabel real records."""

    list_display = ("code", "name", "country_code")
    list_filter = ("country_code",)
    # Also what autocomplete on licences and offices searches.
    search_fields = ("code", "name")


# --- health data and the audit log -----------------------------------------------------------


class HealthDataAdmin(admin.ModelAdmin[Any]):
    """For the admin of a health model: staff see and edit the record's metadata, never its
    encrypted fields, and every record they open is written to the audit log.

    Health data is for its owner and the therapist they chose; running the service does not
    need it. Subclass it instead of ``admin.ModelAdmin``.
    """

    def _encrypted(self) -> set[str]:
        return set(encrypted_field_names(self.model))

    def _without_encrypted(self, names: Sequence[Any]) -> list[Any]:
        encrypted = self._encrypted()
        return [name for name in names if name not in encrypted]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*(super().get_exclude(request, obj) or ()), *sorted(self._encrypted())]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self._without_encrypted(super().get_fields(request, obj))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self._without_encrypted(super().get_readonly_fields(request, obj))

    def get_list_display(self, request: HttpRequest) -> Any:
        return self._without_encrypted(super().get_list_display(request))

    def get_search_fields(self, request: HttpRequest) -> Any:
        return self._without_encrypted(super().get_search_fields(request))

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        found = super().get_object(request, object_id, from_field)
        if found is not None:
            audit_read(request=request, instance=found, reason="admin")
        return found


# auditlog registers its own admin, which allows deletes that cascade from other objects and
# searches user fields this project's User does not have; this one replaces it.
if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditLogEntryAdmin(ReadOnlyAdmin):
    """The audit log, for staff review. Nobody can add, change or delete an entry here, not even
    a superuser (the database refuses it too); anonymising happens in code, on account deletion.
    """

    date_hierarchy = "timestamp"
    list_display = ("timestamp", "action", "content_type", "object_pk", "actor", "remote_addr")
    list_filter = (
        "action",
        ("content_type", admin.RelatedOnlyFieldListFilter),
        ("actor", admin.RelatedOnlyFieldListFilter),
        "timestamp",
    )
    list_select_related = ("content_type", "actor")
    search_fields = (
        "object_pk",
        "object_repr",
        "actor__email",
        "actor_email",
        "remote_addr",
        "cid",
    )
    fields = (
        "timestamp",
        "action",
        "content_type",
        "object_pk",
        "object_repr",
        "actor",
        "actor_email",
        "remote_addr",
        "cid",
        "changes",
        "additional_data",
    )
    readonly_fields = fields
    show_full_result_count = False  # counting a large log on every page costs a full scan
