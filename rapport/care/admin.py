"""Staff views of care data: read-only, never the texts (goals, end reasons), every record
opened written to the audit log. Changes go through the services, which both people see."""

from __future__ import annotations

from django.contrib import admin

from rapport.care.models import Engagement, Goal, Invitation, Session
from rapport.core.admin import HealthDataAdmin, ReadOnlyAdmin


@admin.register(Engagement)
class EngagementAdmin(HealthDataAdmin, ReadOnlyAdmin):
    list_display = ("public_id", "therapist", "status", "sharing", "started_at", "ended_at")
    list_filter = ("status", "sharing")
    list_select_related = ("therapist",)
    search_fields = ("=public_id", "therapist__display_name")
    ordering = ("-started_at",)


@admin.register(Goal)
class GoalAdmin(HealthDataAdmin, ReadOnlyAdmin):
    list_display = ("engagement", "position", "client_agreed_at", "therapist_agreed_at")
    search_fields = ("=engagement__public_id",)


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "engagement", "starts_at", "status")
    list_filter = ("status",)
    search_fields = ("=engagement__public_id",)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "therapist", "status", "created_at", "answered_at")
    list_filter = ("status",)
