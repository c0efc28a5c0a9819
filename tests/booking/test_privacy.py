"""Consultations are health data: encrypted reasons, audited reads, in the export, erased with
the account."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.selectors import account_export_data
from rapport.accounts.services import account_delete
from rapport.booking import services
from rapport.booking.models import (
    Appointment,
    AppointmentStatus,
    OutboxEmail,
    OutboxStatus,
    Party,
)
from rapport.core.audit import audit_entries_about_user
from rapport.core.crypto import decrypt
from tests.booking.factories import give_availability, make_appointment
from tests.factories import TEST_PASSWORD, make_therapist, make_user

CLIENT_REASON = "My panic attacks got worse this week and I cannot leave the house."
THERAPIST_REASON = "Moving you because of the grief group you mentioned runs late."


def _toronto(days: int, hour: int) -> dt.datetime:
    """``hour``:00 in Toronto, ``days`` from today: on the therapist's 15-minute grid."""
    zone = ZoneInfo("America/Toronto")
    day = timezone.now().astimezone(zone).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zone)


def _raw_reasons(appointment: Appointment) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT change_reason, end_reason FROM booking_appointment WHERE id = %s",
            [appointment.pk],
        )
        row = cursor.fetchone()
    return row[0], row[1]


@pytest.fixture
def therapist(reference_data):
    account = make_user(role="therapist", mfa=True, email="therapist@example.org")
    therapist = make_therapist(display_name="Dr Robin Vale", user=account)
    give_availability(therapist, weekdays=tuple(range(7)), minimum_notice_hours=0)
    return therapist


# --- encrypted at rest ---------------------------------------------------------------------


def test_reasons_are_stored_encrypted_and_read_back_as_written(therapist):
    soon = _toronto(3, 10)
    appointment = make_appointment(therapist, soon)
    services.appointment_cancel(appointment=appointment, by=Party.CLIENT, reason=CLIENT_REASON)
    other = make_appointment(therapist, soon + dt.timedelta(hours=2))
    services.appointment_reschedule(
        appointment=other,
        starts_at=soon + dt.timedelta(days=1),
        by=Party.THERAPIST,
        reason=THERAPIST_REASON,
    )

    change_raw, end_raw = _raw_reasons(appointment)
    assert change_raw == ""
    assert CLIENT_REASON not in end_raw
    assert decrypt(end_raw) == CLIENT_REASON
    change_raw, end_raw = _raw_reasons(other)
    assert THERAPIST_REASON not in change_raw
    assert decrypt(change_raw) == THERAPIST_REASON
    assert end_raw == ""
    assert Appointment.objects.get(pk=appointment.pk).end_reason == CLIENT_REASON
    assert Appointment.objects.get(pk=other.pk).change_reason == THERAPIST_REASON


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migration_encrypts_reasons_written_before_it_and_can_be_reversed():
    from tests.factories import load_reference_data

    load_reference_data()
    therapist = make_therapist()
    appointment = make_appointment(therapist, timezone.now() + dt.timedelta(days=2))
    executor = MigrationExecutor(connection)
    executor.migrate([("booking", "0003_change_note")])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE booking_appointment SET change_reason = %s, end_reason = %s WHERE id = %s",
                ["plain change note", "", appointment.pk],
            )
        executor = MigrationExecutor(connection)
        executor.migrate([("booking", "0004_encrypt_reasons")])
        change_raw, end_raw = _raw_reasons(appointment)
        assert change_raw != "plain change note"
        assert decrypt(change_raw) == "plain change note"
        assert end_raw == ""
        # Backwards: the plain text comes back, so an older release can read it.
        executor = MigrationExecutor(connection)
        executor.migrate([("booking", "0003_change_note")])
        assert _raw_reasons(appointment) == ("plain change note", "")
    finally:
        # The command, as a deployment runs it: it also installs the SQLite triggers again.
        call_command("migrate", verbosity=0)
    # Still one appointment per time: the rebuilt table has its overlap triggers again.
    assert Appointment.objects.get(pk=appointment.pk).change_reason == "plain change note"
    with pytest.raises(IntegrityError):
        make_appointment(therapist, appointment.starts_at)


# --- audited, and never in the log ----------------------------------------------------------


def test_therapist_viewing_the_practice_page_is_recorded_for_the_client(therapist):
    client_account = make_user(email="sam@example.org")
    appointment = make_appointment(
        therapist, timezone.now() + dt.timedelta(days=2), client=client_account
    )
    browser = Client()
    browser.force_login(therapist.user)

    response = browser.get(reverse("booking:practice_home"))

    assert response.status_code == 200
    assert "Sam Client" in response.content.decode()
    reads = [
        entry
        for entry in audit_entries_about_user(user=client_account)
        if entry.action == LogEntry.Action.ACCESS
    ]
    assert [(entry.object_pk, entry.actor_id) for entry in reads] == [
        (str(appointment.pk), therapist.user.pk)
    ]
    assert reads[0].additional_data == {"reason": "practice page"}


def test_client_manage_page_read_is_recorded(therapist):
    from rapport.booking import tokens

    appointment = make_appointment(therapist, timezone.now() + dt.timedelta(days=2))
    token = tokens.appointment_token_make(appointment=appointment, purpose=tokens.PURPOSE_MANAGE)

    response = Client().get(reverse("booking:consultation_manage", args=[token]))

    assert response.status_code == 200
    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(appointment.pk))
    assert [entry.additional_data for entry in entries] == [{"reason": "manage link"}]


def test_audit_log_never_holds_reasons_names_or_addresses(therapist):
    soon = _toronto(3, 10)
    appointment = make_appointment(therapist, soon)
    services.appointment_reschedule(
        appointment=appointment,
        starts_at=soon + dt.timedelta(days=1),
        by=Party.THERAPIST,
        reason=THERAPIST_REASON,
    )
    services.appointment_cancel(appointment=appointment, by=Party.CLIENT, reason=CLIENT_REASON)

    entries = LogEntry.objects.filter(object_pk=str(appointment.pk))
    assert entries.count() >= 3  # created, moved, cancelled
    logged = json.dumps([entry.changes for entry in entries]) + " ".join(
        entry.object_repr for entry in entries
    )
    for secret in (CLIENT_REASON, THERAPIST_REASON, "Sam Client", "sam@example.org"):
        assert secret not in logged
    assert "[health data: not recorded]" in logged


# --- export ----------------------------------------------------------------------------------


def test_export_holds_the_persons_consultations_with_both_sides_reasons(therapist):
    person = make_user(email="sam@example.org")
    # Booked before the account existed: found by the address the person has proved.
    earlier = make_appointment(therapist, timezone.now() + dt.timedelta(days=2))
    services.appointment_cancel(appointment=earlier, by=Party.THERAPIST, reason=THERAPIST_REASON)
    linked = make_appointment(
        therapist,
        timezone.now() + dt.timedelta(days=4),
        client=person,
        client_email="sam.other@example.org",
    )
    make_appointment(
        therapist,
        timezone.now() + dt.timedelta(days=5),
        client_name="Somebody Else",
        client_email="else@example.org",
    )

    data = account_export_data(user=person)

    consultations = data["consultations"]
    assert [item["id"] for item in consultations] == [
        str(earlier.public_id),
        str(linked.public_id),
    ]
    assert consultations[0]["end_reason"] == THERAPIST_REASON
    assert consultations[0]["ended_by"] == "therapist"
    assert consultations[0]["therapist"]["name"] == "Dr Robin Vale"
    assert consultations[1]["email_given"] == "sam.other@example.org"
    assert "Somebody Else" not in json.dumps(data)


def test_readable_export_page_lists_consultations(therapist):
    person = make_user(email="sam@example.org")
    appointment = make_appointment(therapist, timezone.now() + dt.timedelta(days=2))
    services.appointment_cancel(appointment=appointment, by=Party.CLIENT, reason=CLIENT_REASON)
    browser = Client()
    browser.force_login(person)
    # A fresh password confirmation, which the export asks for.
    browser.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})

    response = browser.get(reverse("accounts:export_html"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="consultations-heading"' in page
    assert "Ended (client): " + CLIENT_REASON.replace("'", "&#x27;") in page
    assert "Dr Robin Vale" in page


# --- deletion --------------------------------------------------------------------------------


def test_deleting_an_account_cancels_upcoming_consultations_and_anonymises_the_rest(therapist):
    person = make_user(email="sam@example.org")
    now = timezone.now()
    past = make_appointment(therapist, now - dt.timedelta(days=10), client=person)
    Appointment.objects.filter(pk=past.pk).update(change_reason="", end_reason="")
    cancelled = make_appointment(therapist, now + dt.timedelta(days=1))
    services.appointment_cancel(appointment=cancelled, by=Party.CLIENT, reason=CLIENT_REASON)
    upcoming = make_appointment(therapist, now + dt.timedelta(days=3))
    stranger = make_appointment(
        therapist,
        now + dt.timedelta(days=6),
        client_name="Somebody Else",
        client_email="else@example.org",
    )
    OutboxEmail.objects.all().delete()

    account_delete(user=person)

    upcoming.refresh_from_db()
    assert upcoming.status == AppointmentStatus.CANCELLED
    assert upcoming.ended_by == Party.CLIENT
    assert upcoming.end_reason == services.ACCOUNT_CLOSED_REASON
    # The therapist is told; nothing waits to go to the address that is being erased.
    assert list(OutboxEmail.objects.values_list("appointment_id", "recipient", "status")) == [
        (upcoming.pk, Party.THERAPIST, OutboxStatus.PENDING)
    ]
    for appointment in (past, cancelled, upcoming):
        appointment.refresh_from_db()
        assert appointment.client_id is None
        assert (appointment.client_name, appointment.client_email) == ("", "")
        assert appointment.change_reason == ""
        assert appointment.client_email_confirmed_at is None
    cancelled.refresh_from_db()
    assert cancelled.end_reason == ""
    assert cancelled.status == AppointmentStatus.CANCELLED  # what the therapist keeps
    assert past.starts_at < now
    stranger.refresh_from_db()
    assert (stranger.client_name, stranger.client_email) == ("Somebody Else", "else@example.org")
    logged = json.dumps([entry.changes for entry in LogEntry.objects.all()])
    assert "sam@example.org" not in logged
    assert "Sam Client" not in logged


def test_practice_page_shows_an_erased_client_without_a_name(therapist):
    person = make_user(email="sam@example.org")
    make_appointment(therapist, timezone.now() - dt.timedelta(hours=1), client=person)
    account_delete(user=person)
    browser = Client()
    browser.force_login(therapist.user)

    page = browser.get(reverse("booking:practice_home")).content.decode()

    assert "Sam Client" not in page
    assert "A former client (account deleted)" in page


def test_deletion_page_says_what_happens_to_consultations(db):
    person = make_user()
    browser = Client()
    browser.force_login(person)

    page = browser.get(reverse("accounts:privacy")).content.decode()

    assert "upcoming ones are cancelled" in page
    assert "we remove your name, your e-mail address and anything either of you wrote" in page


def test_staff_opening_an_appointment_in_the_admin_see_no_reasons_and_are_recorded(
    therapist, admin_user
):
    appointment = make_appointment(therapist, _toronto(3, 10))
    services.appointment_cancel(appointment=appointment, by=Party.CLIENT, reason=CLIENT_REASON)
    browser = Client()
    browser.force_login(admin_user)

    page = browser.get(reverse("admin:booking_appointment_change", args=[appointment.pk]))

    assert page.status_code == 200
    text = page.content.decode()
    assert "panic attacks" not in text
    assert 'name="_save"' not in text  # read-only
    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(appointment.pk))
    assert [(entry.actor_id, entry.additional_data) for entry in entries] == [
        (admin_user.pk, {"reason": "admin"})
    ]
