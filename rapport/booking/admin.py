"""Staff views of booking data.

Appointments and e-mails are read-only here: every change to them must go through
``services.py`` so that both people are told and calendars follow; an edit in the admin would
do neither. Availability settings are editable for support, and each save refreshes the
therapist's booking facts like the services do.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from rapport.booking.facts import therapist_booking_facts_refresh_on_commit
from rapport.booking.models import (
    Appointment,
    BookingPolicy,
    DateException,
    OutboxEmail,
    WeeklyWindow,
)
from rapport.core.admin import HealthDataAdmin, ReadOnlyAdmin


class AvailabilityAdmin(admin.ModelAdmin[Any]):
    list_select_related = ("therapist",)
    raw_id_fields = ("therapist",)

    def save_model(
        self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        therapist_booking_facts_refresh_on_commit(therapist=obj.therapist)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        therapist = obj.therapist
        super().delete_model(request, obj)
        therapist_booking_facts_refresh_on_commit(therapist=therapist)


@admin.register(BookingPolicy)
class BookingPolicyAdmin(AvailabilityAdmin):
    list_display = (
        "therapist",
        "requires_confirmation",
        "minimum_notice_hours",
        "horizon_days",
        "max_consultations_per_day",
        "buffer_minutes",
    )
    list_filter = ("requires_confirmation",)
    search_fields = ("therapist__display_name",)
    # The feed token is a secret URL: staff rotate it through the therapist, never read it.
    exclude = ("feed_token",)
    # The meeting link is checked by the practice page's rule (https, no user name or password,
    # booking.how.meeting_link_clean); the admin only shows it.
    readonly_fields = ("feed_token_created_at", "updated_at", "meeting_link")


@admin.register(WeeklyWindow)
class WeeklyWindowAdmin(AvailabilityAdmin):
    list_display = ("therapist", "weekday", "starts_at", "ends_at")
    list_filter = ("weekday",)
    search_fields = ("therapist__display_name",)


@admin.register(DateException)
class DateExceptionAdmin(AvailabilityAdmin):
    list_display = ("therapist", "date", "kind", "starts_at", "ends_at")
    list_filter = ("kind",)
    search_fields = ("therapist__display_name",)
    date_hierarchy = "date"


@admin.register(Appointment)
class AppointmentAdmin(HealthDataAdmin, ReadOnlyAdmin):
    """Appointments as staff may see them: never the reasons either side wrote (health data),
    and every one opened is recorded in the audit log."""

    list_display = ("public_id", "therapist", "kind", "status", "starts_at", "ends_at", "sequence")
    list_filter = ("status", "kind")
    list_select_related = ("therapist",)
    search_fields = ("=public_id", "therapist__display_name")
    date_hierarchy = "starts_at"
    ordering = ("-starts_at",)


@admin.register(OutboxEmail)
class OutboxEmailAdmin(ReadOnlyAdmin):
    list_display = ("appointment", "purpose", "recipient", "status", "due_at", "attempts")
    list_filter = ("status", "purpose", "recipient")
    list_select_related = ("appointment__therapist",)
    search_fields = ("=appointment__public_id",)
    ordering = ("-due_at",)
