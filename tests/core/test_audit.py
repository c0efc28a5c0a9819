"""The audit log of health data: what gets recorded, what never does, and that it cannot be
rewritten."""

from __future__ import annotations

import importlib

import pytest
from auditlog.models import LogEntry  # type: ignore[import-untyped, unused-ignore]
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import reverse

from rapport.core import audit
from rapport.core.admin import AuditLogEntryAdmin
from rapport.core.audit import (
    HEALTH_DATA_MASK,
    AuditlogMiddleware,
    audit_entries_about_user,
    audit_entries_anonymise_actor,
    audit_entries_by_actor,
    audit_read,
    audit_reads,
    health_models,
    register_health_model,
    request_client_address,
)
from tests.factories import make_therapist_user, make_user
from tests.healthdata_app.models import PrivateNote, Reflection
from tests.healthdata_app.services import (
    private_note_create,
    private_note_delete,
    private_note_update,
)

pytestmark = pytest.mark.django_db

ACCESS = LogEntry.Action.ACCESS
CREATE = LogEntry.Action.CREATE
UPDATE = LogEntry.Action.UPDATE
DELETE = LogEntry.Action.DELETE

APPEND_ONLY_MIGRATION = importlib.import_module("rapport.core.migrations.0003_auditlog_append_only")


@pytest.fixture
def alice():
    return make_user(email="alice@example.org")


@pytest.fixture
def therapist():
    return make_therapist_user(mfa=True, email="therapist@example.org")


@pytest.fixture
def superuser():
    return make_user(role="staff", mfa=True, is_superuser=True, email="root@example.org")


def _request(rf, user=None, **meta):
    request = rf.get("/notes/", REMOTE_ADDR=meta.pop("REMOTE_ADDR", "198.51.100.7"), **meta)
    request.user = user or AnonymousUser()
    return request


def _entries(**filters):
    return list(
        LogEntry.objects.filter(**filters)
        .order_by("pk")
        .values_list("action", "actor__email", "object_pk", "remote_addr")
    )


# --- registration and masking --------------------------------------------------------------


def test_test_health_models_are_registered_with_their_owner_lookups():
    assert health_models()[PrivateNote] == "owner"
    assert health_models()[Reflection] == "author"


def test_creating_a_note_records_that_the_body_was_set_but_not_what_it_says(alice):
    note = private_note_create(owner=alice, body="The nightmares are back.", title="Tuesday")

    entry = LogEntry.objects.get(action=CREATE, object_pk=str(note.pk))
    assert entry.changes["body"] == [HEALTH_DATA_MASK, HEALTH_DATA_MASK]
    assert entry.changes["title"] == ["None", "Tuesday"]
    assert "nightmares" not in str(entry.changes)


def test_changing_a_note_records_only_that_the_body_changed(alice):
    note = private_note_create(owner=alice, body="before")
    private_note_update(note=note, body="after")

    entry = LogEntry.objects.get(action=UPDATE, object_pk=str(note.pk))
    assert entry.changes == {"body": [HEALTH_DATA_MASK, HEALTH_DATA_MASK]}


def test_deleting_a_note_is_recorded_without_the_body(alice):
    note = private_note_create(owner=alice, body="delete me")
    pk = str(note.pk)
    private_note_delete(note=note)

    entry = LogEntry.objects.get(action=DELETE, object_pk=pk)
    assert entry.changes["body"] == [HEALTH_DATA_MASK, HEALTH_DATA_MASK]


def test_entries_name_a_health_record_by_model_and_id_even_if_str_shows_the_text(
    alice, monkeypatch
):
    monkeypatch.setattr(PrivateNote, "__str__", lambda note: f"Note: {note.body}")
    note = private_note_create(owner=alice, body="confidential words")

    entry = LogEntry.objects.get(action=CREATE, object_pk=str(note.pk))
    assert entry.object_repr == f"private note {note.pk}"


def test_an_owner_field_that_is_not_on_the_model_is_refused():
    with pytest.raises(ImproperlyConfigured) as raised:
        register_health_model(PrivateNote, owner_field="client__user")
    assert str(raised.value) == (
        "register_health_model(healthdata_app.PrivateNote): owner_field 'client__user' does not "
        "start with a field of the model."
    )
    assert health_models()[PrivateNote] == "owner"


# --- recording reads -----------------------------------------------------------------------


def test_audit_read_records_who_what_when_and_from_where(rf, alice, therapist):
    note = private_note_create(owner=alice, body="x")

    audit_read(request=_request(rf, therapist), instance=note, reason="shared note")

    entry = LogEntry.objects.get(action=ACCESS)
    assert (
        entry.content_type,
        entry.object_pk,
        entry.object_id,
        entry.object_repr,
        entry.actor,
        entry.actor_email,
        entry.remote_addr,
        entry.additional_data,
        entry.changes,
    ) == (
        ContentType.objects.get_for_model(PrivateNote),
        str(note.pk),
        None,
        f"private note {note.pk}",
        therapist,
        "therapist@example.org",
        "198.51.100.7",
        {"reason": "shared note"},
        None,
    )
    assert entry.timestamp is not None


def test_audit_read_of_an_integer_keyed_record_also_sets_object_id(rf, alice):
    reflection = Reflection.objects.create(author=alice, answer="x")

    audit_read(request=_request(rf, alice), instance=reflection)

    entry = LogEntry.objects.get(action=ACCESS)
    assert (entry.object_pk, entry.object_id, entry.additional_data) == (
        str(reflection.pk),
        reflection.pk,
        None,
    )


def test_a_read_by_someone_signed_out_is_recorded_without_an_actor(rf, alice):
    note = private_note_create(owner=alice, body="x")
    audit_read(request=_request(rf), instance=note)
    assert _entries(action=ACCESS) == [(ACCESS, None, str(note.pk), "198.51.100.7")]


def test_audit_reads_records_one_entry_per_record_in_one_query(
    rf, alice, therapist, django_assert_num_queries
):
    notes = [private_note_create(owner=alice, body=f"n{n}") for n in range(3)]
    reflection = Reflection.objects.create(author=alice, answer="r")
    request = _request(rf, therapist)
    ContentType.objects.get_for_model(Reflection)  # cached, as in a running server

    with django_assert_num_queries(1):
        audit_reads(request=request, instances=[*notes, reflection])

    assert _entries(action=ACCESS) == [
        *[(ACCESS, "therapist@example.org", str(note.pk), "198.51.100.7") for note in notes],
        (ACCESS, "therapist@example.org", str(reflection.pk), "198.51.100.7"),
    ]


def test_audit_reads_of_nothing_writes_nothing(rf, alice, django_assert_num_queries):
    with django_assert_num_queries(0):
        audit_reads(request=_request(rf, alice), instances=[])


def test_an_unsaved_record_cannot_be_recorded_as_read(rf, alice):
    with pytest.raises(ValueError, match="this one is not saved"):
        audit_read(request=_request(rf, alice), instance=PrivateNote(owner=alice, body="x"))


# --- the client address --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "203.0.113.66", "198.51.100.7"),  # no proxy declared: the header is the client's
        (1, "203.0.113.66", "203.0.113.66"),
        (1, "10.9.9.9, 203.0.113.66", "203.0.113.66"),  # the left entry was sent by the client
        (2, "10.9.9.9, 203.0.113.66, 192.0.2.1", "203.0.113.66"),
        (2, "203.0.113.66", "198.51.100.7"),  # fewer entries than proxies: do not guess
        (1, "not-an-address", None),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_follows_the_trusted_proxy_count(rf, proxies, forwarded_for, expected):
    request = _request(rf, HTTP_X_FORWARDED_FOR=forwarded_for)
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert request_client_address(request) == expected


def test_the_site_uses_the_audit_middleware_that_does_not_believe_forwarded_headers():
    assert "rapport.core.audit.AuditlogMiddleware" in settings.MIDDLEWARE
    assert "auditlog.middleware.AuditlogMiddleware" not in settings.MIDDLEWARE


def test_changes_during_a_request_record_the_real_client_address_not_a_forged_one(rf, alice):
    request = _request(rf, alice, HTTP_X_FORWARDED_FOR="203.0.113.66", HTTP_X_FORWARDED_PORT="4444")

    def view(request):
        private_note_create(owner=alice, body="x")
        return HttpResponse()

    with override_settings(TRUSTED_PROXY_COUNT=0):
        AuditlogMiddleware(view)(request)

    entry = LogEntry.objects.get(action=CREATE)
    assert (entry.actor, entry.remote_addr, entry.remote_port) == (alice, "198.51.100.7", None)


# --- append-only in the database -----------------------------------------------------------


@pytest.fixture
def entry(rf, alice, therapist):
    note = private_note_create(owner=alice, body="x")
    audit_read(request=_request(rf, therapist), instance=note)
    return LogEntry.objects.get(action=ACCESS)


def test_the_protecting_triggers_exist():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s "
                "ORDER BY name",
                ["auditlog_logentry"],
            )
            expected = [("rapport_auditlog_no_delete",), ("rapport_auditlog_only_anonymise",)]
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'auditlog_logentry'::regclass "
                "AND NOT tgisinternal"
            )
            expected = [("rapport_auditlog_append_only",)]
        assert cursor.fetchall() == expected


@pytest.mark.parametrize(
    ("fixed_columns", "anonymisable_columns"),
    [
        # The SQLite triggers, declared in app code and installed after every migrate.
        (audit.AUDIT_LOG_FIXED_COLUMNS, audit.AUDIT_LOG_ANONYMISABLE_COLUMNS),
        # PostgreSQL's trigger, written by the migration.
        (APPEND_ONLY_MIGRATION.FIXED_COLUMNS, APPEND_ONLY_MIGRATION.ANONYMISABLE_COLUMNS),
    ],
    ids=["sqlite declaration", "postgresql migration"],
)
def test_the_triggers_cover_every_column_of_the_log(fixed_columns, anonymisable_columns):
    # If auditlog adds a column, decide whether it may be emptied, and add it to both lists
    # (and a migration for PostgreSQL).
    columns = {field.column for field in LogEntry._meta.concrete_fields}
    fixed = set(fixed_columns)
    anonymisable = set(anonymisable_columns)
    assert fixed.isdisjoint(anonymisable)
    assert fixed | anonymisable == columns


def test_an_entry_cannot_be_deleted(entry):
    refused = pytest.raises(IntegrityError, match="append-only: entries cannot be deleted")
    with refused, transaction.atomic():
        entry.delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LogEntry.objects.all().delete()
    assert LogEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    "change",
    [
        {"changes": {"body": ["a", "b"]}},
        {"object_repr": "something else"},
        {"object_pk": "another"},
        {"action": 0},
        {"additional_data": {"reason": "rewritten"}},
        {"actor_email": "someone.else@example.org"},
        {"remote_addr": "192.0.2.99"},
        {"remote_port": 1234},
    ],
    ids=lambda change: next(iter(change)),
)
def test_an_entry_cannot_be_rewritten(entry, change):
    refused = pytest.raises(IntegrityError, match="can only have its actor and address removed")
    with refused, transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(**change)


def test_an_entry_cannot_be_moved_to_another_actor(entry, alice):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(actor=alice)


def test_the_actor_and_address_can_be_removed(entry, therapist):
    assert audit_entries_anonymise_actor(actor=therapist) == 1

    entry.refresh_from_db()
    assert (entry.actor, entry.actor_email, entry.remote_addr, entry.remote_port) == (
        None,
        None,
        None,
        None,
    )
    assert entry.action == ACCESS


def test_deleting_an_account_keeps_its_entries_with_the_actor_emptied(entry, therapist):
    therapist.delete()

    entry.refresh_from_db()
    assert (entry.actor_id, entry.action, entry.object_pk) == (None, ACCESS, entry.object_pk)


def test_deleting_an_owner_keeps_the_record_of_their_notes(alice, therapist, rf):
    note = private_note_create(owner=alice, body="x")
    audit_read(request=_request(rf, therapist), instance=note)

    alice.delete()  # cascades to the note, which is logged as deleted

    assert [action for action, *_ in _entries(object_pk=str(note.pk))] == [CREATE, ACCESS, DELETE]


# --- review selectors ----------------------------------------------------------------------


def test_entries_about_a_user_are_reads_and_changes_of_their_records_newest_first(
    rf, alice, therapist, django_assert_num_queries
):
    carol = make_user(email="carol@example.org")
    note = private_note_create(owner=alice, body="x")
    reflection = Reflection.objects.create(author=alice, answer="y")
    carols_note = private_note_create(owner=carol, body="z")
    audit_read(request=_request(rf, therapist), instance=note)
    audit_read(request=_request(rf, therapist), instance=carols_note)
    audit_read(request=_request(rf, alice), instance=note)
    private_note_update(note=note, body="x2")
    audit_read(request=_request(rf, therapist), instance=reflection)
    # Content types are cached per process once read; a fresh test process reads them once.
    for model in audit.health_models():
        ContentType.objects.get_for_model(model)

    with django_assert_num_queries(2):  # the note ids, then the entries with actor and type
        entries = [
            (
                entry.action,
                entry.actor and entry.actor.email,
                entry.content_type.model,
                entry.object_pk,
            )
            for entry in audit_entries_about_user(user=alice)
        ]

    assert entries == [
        (ACCESS, "therapist@example.org", "reflection", str(reflection.pk)),
        (UPDATE, None, "privatenote", str(note.pk)),  # a service call outside any request
        (ACCESS, "alice@example.org", "privatenote", str(note.pk)),
        (ACCESS, "therapist@example.org", "privatenote", str(note.pk)),
    ]


def test_entries_about_someone_with_no_records_are_empty(alice):
    assert list(audit_entries_about_user(user=alice)) == []


def test_entries_about_a_user_can_be_sliced_for_a_page(rf, alice, therapist):
    note = private_note_create(owner=alice, body="x")
    for _ in range(3):
        audit_read(request=_request(rf, therapist), instance=note)
    assert len(audit_entries_about_user(user=alice)[:2]) == 2


def test_entries_by_actor_are_everything_they_read_or_changed(rf, alice, therapist):
    note = private_note_create(owner=alice, body="x")
    audit_read(request=_request(rf, therapist), instance=note)
    audit_read(request=_request(rf, alice), instance=note)

    assert [
        (entry.action, entry.object_pk) for entry in audit_entries_by_actor(actor=therapist)
    ] == [(ACCESS, str(note.pk))]


# --- staff review in the admin -------------------------------------------------------------


@pytest.fixture
def staff_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


def test_the_log_admin_is_ours_and_refuses_every_edit_even_to_a_superuser(rf, superuser):
    model_admin = admin.site._registry[LogEntry]
    assert isinstance(model_admin, AuditLogEntryAdmin)
    request = _request(rf, superuser)
    assert model_admin.has_view_permission(request) is True
    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request) is False
    assert model_admin.has_delete_permission(request) is False


def test_staff_can_filter_and_search_the_log(staff_client, entry, therapist):
    content_type = ContentType.objects.get_for_model(PrivateNote)
    response = staff_client.get(
        reverse("admin:auditlog_logentry_changelist"),
        {
            "action__exact": ACCESS,
            "content_type__id__exact": content_type.pk,
            "actor__id__exact": therapist.pk,
            "timestamp__gte": "2000-01-01 00:00:00+00:00",
            "q": entry.object_pk,
        },
    )
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [entry]


@pytest.mark.parametrize("query", ["therapist@example", "198.51.100.7"])
def test_the_log_can_be_searched_by_actor_and_address(staff_client, entry, query):
    response = staff_client.get(reverse("admin:auditlog_logentry_changelist"), {"q": query})
    assert list(response.context["cl"].result_list) == [entry]


def test_an_entry_opens_read_only_and_cannot_be_changed_added_or_deleted(staff_client, entry):
    change_url = reverse("admin:auditlog_logentry_change", args=[entry.pk])
    page = staff_client.get(change_url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content

    assert staff_client.post(change_url, {"object_repr": "x"}).status_code == 403
    assert staff_client.get(reverse("admin:auditlog_logentry_add")).status_code == 403
    delete_url = reverse("admin:auditlog_logentry_delete", args=[entry.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    changelist = staff_client.get(reverse("admin:auditlog_logentry_changelist"))
    assert "delete_selected" not in changelist.context["cl"].model_admin.get_actions(
        changelist.wsgi_request
    )
    assert LogEntry.objects.get(pk=entry.pk).object_repr == entry.object_repr


def test_opening_a_health_record_in_the_admin_is_audited_and_never_shows_its_text(
    staff_client, superuser, alice
):
    note = private_note_create(owner=alice, body="words for the therapist only", title="Mon")

    page = staff_client.get(reverse("admin:healthdata_app_privatenote_change", args=[note.pk]))

    assert page.status_code == 200
    assert b"words for the therapist only" not in page.content
    assert "body" not in page.context["adminform"].form.fields
    assert _entries(action=ACCESS) == [(ACCESS, "root@example.org", str(note.pk), "127.0.0.1")]
    assert LogEntry.objects.get(action=ACCESS).additional_data == {"reason": "admin"}


def test_the_health_record_list_in_the_admin_leaves_out_encrypted_columns(staff_client, alice):
    private_note_create(owner=alice, body="words for the therapist only", title="Mon")

    # PrivateNoteAdmin asks for the body column and body search; HealthDataAdmin drops both.
    page = staff_client.get(reverse("admin:healthdata_app_privatenote_changelist"), {"q": "Mon"})

    assert page.status_code == 200
    assert b"words for the therapist only" not in page.content
    assert list(page.context["cl"].list_display) == [
        "action_checkbox",
        "id",
        "owner",
        "title",
        "created_at",
    ]
    assert len(page.context["cl"].result_list) == 1
