from django.contrib import admin

from rapport.core.admin import HealthDataAdmin
from tests.healthdata_app.models import PrivateNote, Reflection


@admin.register(PrivateNote)
class PrivateNoteAdmin(HealthDataAdmin):
    list_display = ("id", "owner", "title", "body", "created_at")
    search_fields = ("title", "body")
    raw_id_fields = ("owner",)


@admin.register(Reflection)
class ReflectionAdmin(HealthDataAdmin):
    list_display = ("id", "author")
    raw_id_fields = ("author",)
