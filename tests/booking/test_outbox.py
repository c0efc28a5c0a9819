"""The transactional outbox: written with the change, delivered once, retried, skipped when
stale. Appointments are made directly with the ORM so these tests depend on the outbox alone."""

from __future__ import annotations

import datetime as dt
import email
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from rapport.booking import outbox
from rapport.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    OutboxEmail,
    OutboxStatus,
    Party,
)
from rapport.directory.models import Concern, TherapistProfile
from tests.booking.factories import give_availability, make_maya_appointment
from tests.factories import make_therapist, make_therapist_with_account

FAILING_BACKEND = "tests.directory.failing_mail.FailingBackend"
LOCMEM_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# 16:00 UTC on Tuesday 15 July 2031, as the client (Vancouver) and the therapist (Toronto) read it.
VANCOUVER_NINE = "Tuesday, July 15, 2031 at 9:00 a.m. Pacific Time (Vancouver)"
TORONTO_NOON = "Tuesday, July 15, 2031 at 12:00 p.m. Eastern Time (Toronto)"


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    return make_therapist_with_account(display_name="Ada Okafor", email="ada@example.org")


@pytest.fixture
def appointment(therapist: TherapistProfile) -> Appointment:
    return make_maya_appointment(therapist)


def write_later(appointment: Appointment, purpose: str, recipient: Party) -> OutboxEmail:
    """A row that is not due yet, so nothing delivers it before the test does."""
    row = outbox.outbox_write(
        appointment=appointment,
        purpose=purpose,
        recipient=recipient,
        due_at=timezone.now() + dt.timedelta(hours=1),
    )
    assert row is not None
    return row


def calendar_text(message: mail.EmailMessage) -> str:
    payload = calendar_part(message).get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def calendar_part(message: mail.EmailMessage) -> email.message.Message:
    parsed = email.message_from_bytes(message.message().as_bytes())
    parts = [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return parts[0]


# --- writing -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_crash_inside_the_booking_transaction_leaves_no_row_and_no_mail(
    appointment, mailoutbox, django_capture_on_commit_callbacks
):
    def change_then_crash() -> None:
        with transaction.atomic():
            outbox.outbox_write(
                appointment=appointment, purpose=outbox.PURPOSE_BOOKED, recipient=Party.CLIENT
            )
            raise RuntimeError("the process died before commit")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        change_then_crash()

    assert OutboxEmail.objects.count() == 0
    assert callbacks == []
    assert mailoutbox == []


@pytest.mark.django_db
def test_an_e_mail_due_now_is_delivered_when_the_change_commits(
    appointment, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        row = outbox.outbox_write(
            appointment=appointment, purpose=outbox.PURPOSE_BOOKED, recipient=Party.CLIENT
        )
        # Nothing leaves before the change is committed.
        assert mailoutbox == []

    assert row is not None
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 1, "")
    assert row.claimed_until is None
    assert row.dedupe_key == f"{appointment.public_id}:booked:client:0"
    [message] = mailoutbox
    assert message.to == ["maya@example.org"]
    assert message.subject.startswith("[Rapport] Your free consultation is booked")
    assert message.extra_headers["Message-ID"] == outbox.message_id(row.dedupe_key)
    assert calendar_part(message).get_param("method") == "REQUEST"


@pytest.mark.django_db
def test_writing_the_same_e_mail_twice_keeps_one_row(appointment, mailoutbox):
    first = write_later(appointment, outbox.PURPOSE_CONFIRMED, Party.CLIENT)
    second = write_later(appointment, outbox.PURPOSE_CONFIRMED, Party.CLIENT)

    assert first.pk == second.pk
    assert OutboxEmail.objects.count() == 1


@pytest.mark.django_db
def test_a_changed_sequence_is_a_new_e_mail(appointment):
    first = write_later(appointment, outbox.PURPOSE_RESCHEDULED, Party.CLIENT)
    appointment.sequence = 1
    appointment.save()
    second = write_later(appointment, outbox.PURPOSE_RESCHEDULED, Party.CLIENT)

    assert first.pk != second.pk
    assert second.sequence == 1


@pytest.mark.django_db
def test_a_therapist_without_an_account_gets_no_e_mail(reference_data, mailoutbox):
    appointment = make_maya_appointment(make_therapist(user=None))

    row = outbox.outbox_write(
        appointment=appointment, purpose=outbox.PURPOSE_BOOKED, recipient=Party.THERAPIST
    )

    assert row is None
    assert OutboxEmail.objects.count() == 0


@pytest.mark.django_db
def test_an_unknown_purpose_is_refused(appointment):
    with pytest.raises(ValueError, match="purpose"):
        outbox.outbox_write(appointment=appointment, purpose="gossip", recipient=Party.CLIENT)


# --- delivering exactly once ---------------------------------------------------------------


@pytest.mark.django_db
def test_delivering_the_same_row_twice_sends_one_mail(appointment, mailoutbox):
    row = write_later(appointment, outbox.PURPOSE_CONFIRMED, Party.CLIENT)
    now = row.due_at

    assert outbox.outbox_deliver(email_id=row.pk, now=now) == OutboxStatus.SENT
    assert outbox.outbox_deliver(email_id=row.pk, now=now + dt.timedelta(minutes=10)) is None
    assert outbox.outbox_deliver_due(now=now + dt.timedelta(minutes=20)) == 0

    assert len(mailoutbox) == 1
    row.refresh_from_db()
    assert (row.status, row.sent_at, row.attempts) == (OutboxStatus.SENT, now, 1)


@pytest.mark.django_db
def test_a_row_is_not_delivered_before_it_is_due(appointment, mailoutbox):
    row = write_later(appointment, outbox.PURPOSE_CONFIRMED, Party.CLIENT)

    assert outbox.outbox_deliver(email_id=row.pk, now=row.due_at - dt.timedelta(seconds=1)) is None
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_crash_after_claiming_is_delivered_once_when_the_lease_expires(appointment, mailoutbox):
    row = write_later(appointment, outbox.PURPOSE_CONFIRMED, Party.CLIENT)
    claimed_at = row.due_at
    # A worker claims the row and dies before handing it to the mail server.
    assert outbox._claim(now=claimed_at, email_id=row.pk) == [row.pk]

    # Another worker leaves it alone while the lease runs…
    during_lease = claimed_at + outbox.CLAIM_LEASE - dt.timedelta(seconds=1)
    assert outbox.outbox_deliver_due(now=during_lease) == 0
    assert mailoutbox == []
    # …and delivers it once the lease has expired.
    after_lease = claimed_at + outbox.CLAIM_LEASE
    assert outbox.outbox_deliver_due(now=after_lease) == 1
    assert outbox.outbox_deliver_due(now=after_lease + dt.timedelta(minutes=1)) == 0

    assert len(mailoutbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at) == (OutboxStatus.SENT, 2, after_lease)


@pytest.mark.django_db
def test_every_delivery_of_a_row_carries_the_same_message_id(appointment, mailoutbox):
    row = write_later(appointment, outbox.PURPOSE_CONFIRMED, Party.CLIENT)
    # A crash after the mail server accepted the message but before the row was marked sent:
    # the message goes out again, with the Message-ID of the first, so mail systems merge them.
    outbox.outbox_deliver(email_id=row.pk, now=row.due_at)
    OutboxEmail.objects.filter(pk=row.pk).update(status=OutboxStatus.PENDING, sent_at=None)
    outbox.outbox_deliver(email_id=row.pk, now=row.due_at + dt.timedelta(minutes=1))

    first, second = mailoutbox
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    assert first.extra_headers["Message-ID"] == outbox.message_id(row.dedupe_key)
    assert first.extra_headers["Message-ID"].startswith("<")


@pytest.mark.django_db
def test_a_mail_server_failure_is_retried_with_backoff_then_sent(appointment, mailoutbox, settings):
    row = write_later(appointment, outbox.PURPOSE_CONFIRMED, Party.CLIENT)
    failed_at = row.due_at

    settings.EMAIL_BACKEND = FAILING_BACKEND
    assert outbox.outbox_deliver(email_id=row.pk, now=failed_at) == OutboxStatus.PENDING
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING
    assert row.attempts == 1
    assert row.last_error == "ConnectionRefusedError: The mail server is down."
    assert row.due_at == failed_at + dt.timedelta(minutes=1)
    assert row.claimed_until is None

    settings.EMAIL_BACKEND = LOCMEM_BACKEND
    # Not before the backoff has passed.
    assert outbox.outbox_deliver_due(now=failed_at + dt.timedelta(seconds=59)) == 0
    assert outbox.outbox_deliver_due(now=failed_at + dt.timedelta(minutes=1)) == 1

    assert len(mailoutbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 2, "")


@pytest.mark.django_db
def test_delivery_gives_up_after_five_attempts(appointment, mailoutbox, settings):
    settings.EMAIL_BACKEND = FAILING_BACKEND
    row = write_later(appointment, outbox.PURPOSE_CONFIRMED, Party.CLIENT)
    now = row.due_at
    results = []
    for _ in range(6):
        results.append(outbox.outbox_deliver(email_id=row.pk, now=now))
        row.refresh_from_db()
        now = row.due_at

    assert results == [OutboxStatus.PENDING] * 4 + [OutboxStatus.FAILED, None]
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 5)
    assert row.last_error.startswith("ConnectionRefusedError")
    assert mailoutbox == []


def test_retry_delays_grow():
    assert [outbox.retry_delay(attempts) for attempts in (1, 2, 3, 4)] == [
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=5),
        dt.timedelta(minutes=25),
        dt.timedelta(minutes=125),
    ]


# --- reminders -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_reminders_are_due_24_hours_and_1_hour_before(appointment):
    outbox.outbox_reminders_write(appointment=appointment, now=timezone.now())

    reminders = {row.purpose: row for row in OutboxEmail.objects.all()}
    assert set(reminders) == {outbox.PURPOSE_REMINDER_24H, outbox.PURPOSE_REMINDER_1H}
    assert reminders["reminder_24h"].due_at == appointment.starts_at - dt.timedelta(hours=24)
    assert reminders["reminder_1h"].due_at == appointment.starts_at - dt.timedelta(hours=1)
    assert {row.recipient for row in reminders.values()} == {Party.CLIENT}


@pytest.mark.django_db
def test_an_appointment_booked_two_hours_ahead_gets_only_the_1_hour_reminder(therapist):
    now = timezone.now()
    appointment = make_maya_appointment(therapist, starts_at=now + dt.timedelta(hours=2))

    outbox.outbox_reminders_write(appointment=appointment, now=now)

    assert list(OutboxEmail.objects.values_list("purpose", flat=True)) == ["reminder_1h"]


@pytest.mark.django_db
def test_a_due_reminder_is_sent_in_the_client_zone(appointment, mailoutbox):
    outbox.outbox_reminders_write(appointment=appointment, now=timezone.now())
    due = appointment.starts_at - dt.timedelta(hours=24)

    assert outbox.outbox_deliver_due(now=due) == 1

    [message] = mailoutbox
    assert message.subject.startswith("[Rapport] Tomorrow: your consultation — ")
    assert "Pacific Time (Vancouver)" in message.body
    assert "America/Vancouver" not in message.body
    assert "/consultations/" in message.body
    assert message.attachments == []
    assert OutboxEmail.objects.get(purpose="reminder_1h").status == OutboxStatus.PENDING


@pytest.mark.django_db
def test_a_reminder_is_skipped_after_a_reschedule(appointment, mailoutbox):
    outbox.outbox_reminders_write(appointment=appointment, now=timezone.now())
    old_due = appointment.starts_at - dt.timedelta(hours=24)
    # What a reschedule does: a new time, a raised sequence and reminders for the new time.
    appointment.starts_at += dt.timedelta(days=2)
    appointment.ends_at += dt.timedelta(days=2)
    appointment.sequence += 1
    appointment.save()
    outbox.outbox_reminders_write(appointment=appointment, now=timezone.now())

    assert outbox.outbox_deliver_due(now=old_due) == 0

    assert mailoutbox == []
    skipped = OutboxEmail.objects.get(purpose="reminder_24h", sequence=0)
    assert skipped.status == OutboxStatus.SKIPPED
    assert skipped.last_error == "The appointment changed after this reminder was written."
    new_due = appointment.starts_at - dt.timedelta(hours=24)
    assert outbox.outbox_deliver_due(now=new_due) == 1
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_reminder_for_a_cancelled_appointment_is_skipped(appointment, mailoutbox):
    outbox.outbox_reminders_write(appointment=appointment, now=timezone.now())
    Appointment.objects.filter(pk=appointment.pk).update(
        status=AppointmentStatus.CANCELLED, ended_by=Party.CLIENT, ended_at=timezone.now()
    )

    assert outbox.outbox_deliver_due(now=appointment.starts_at - dt.timedelta(minutes=30)) == 0

    assert mailoutbox == []
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {OutboxStatus.SKIPPED}


# --- what the e-mails say ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_first_client_e_mail_has_the_manage_and_confirm_address_links(
    appointment, mailoutbox, settings
):
    from rapport.booking import tokens

    settings.SITE_URL = "https://rapport.example"
    row = write_later(appointment, outbox.PURPOSE_BOOKED, Party.CLIENT)
    outbox.outbox_deliver(email_id=row.pk, now=row.due_at)

    [message] = mailoutbox
    lines = message.body.splitlines()
    confirm = next(line for line in lines if "/consultations/confirm-email/" in line)
    manage = next(
        line
        for line in lines
        if line.startswith("https://rapport.example/consultations/") and line != confirm
    )
    manage_token = manage.removeprefix("https://rapport.example/consultations/").rstrip("/")
    confirm_token = confirm.removeprefix(
        "https://rapport.example/consultations/confirm-email/"
    ).rstrip("/")
    assert tokens.appointment_token_read(token=manage_token, purpose=tokens.PURPOSE_MANAGE) == (
        appointment.public_id
    )
    assert tokens.appointment_token_read(
        token=confirm_token, purpose=tokens.PURPOSE_CONFIRM_EMAIL
    ) == (appointment.public_id)


@pytest.mark.django_db
def test_later_client_e_mails_do_not_ask_to_confirm_the_address(appointment, mailoutbox):
    row = write_later(appointment, outbox.PURPOSE_CONFIRMED, Party.CLIENT)
    outbox.outbox_deliver(email_id=row.pk, now=row.due_at)

    [message] = mailoutbox
    assert "confirm-email" not in message.body
    assert "/consultations/" in message.body


@pytest.mark.django_db
def test_the_client_e_mail_shows_the_time_in_the_client_zone(therapist, mailoutbox):
    starts_at = dt.datetime(2031, 7, 15, 16, 0, tzinfo=dt.UTC)
    appointment = make_maya_appointment(therapist, starts_at=starts_at)
    row = write_later(appointment, outbox.PURPOSE_CONFIRMED, Party.CLIENT)
    outbox.outbox_deliver(email_id=row.pk, now=row.due_at)

    [message] = mailoutbox
    assert (
        "Tuesday, July 15, 2031 at 9:00 a.m. Pacific Time (Vancouver), for 15 minutes"
        in message.body
    )


@pytest.mark.django_db
def test_the_therapist_e_mail_is_in_their_zone_with_the_client_first_name_only(
    therapist, mailoutbox, settings
):
    settings.SITE_URL = "https://rapport.example"
    starts_at = dt.datetime(2031, 7, 15, 16, 0, tzinfo=dt.UTC)
    appointment = make_maya_appointment(therapist, starts_at=starts_at)
    row = write_later(appointment, outbox.PURPOSE_BOOKED, Party.THERAPIST)
    outbox.outbox_deliver(email_id=row.pk, now=row.due_at)

    [message] = mailoutbox
    assert message.to == ["ada@example.org"]
    assert message.subject == f"[Rapport] New consultation booked — {TORONTO_NOON}"
    assert (
        "Tuesday, July 15, 2031 at 12:00 p.m. Eastern Time (Toronto), for 15 minutes"
        in message.body
    )
    assert "https://rapport.example/practice/" in message.body
    assert "Lindqvist" not in message.body
    assert "Lindqvist" not in calendar_text(message)
    assert "/consultations/" not in message.body


@pytest.mark.django_db
def test_a_cancellation_carries_a_calendar_cancel_and_no_reason(therapist, mailoutbox):
    appointment = make_maya_appointment(
        therapist,
        status=AppointmentStatus.CANCELLED,
        ended_by=Party.CLIENT,
        ended_at=timezone.now(),
        end_reason="My panic attacks got worse",
        sequence=1,
    )
    row = write_later(appointment, outbox.PURPOSE_CANCELLED, Party.CLIENT)
    outbox.outbox_deliver(email_id=row.pk, now=row.due_at)

    [message] = mailoutbox
    part = calendar_part(message)
    ics = calendar_text(message)
    assert part.get_param("method") == "CANCEL"
    assert "STATUS:CANCELLED" in ics
    assert "SEQUENCE:1" in ics
    assert "panic" not in message.body
    assert "panic" not in ics


@pytest.mark.django_db
def test_the_expired_request_e_mail_offers_similar_therapists(therapist, mailoutbox, settings):
    settings.SITE_URL = "https://rapport.example"
    now = timezone.now()
    anxiety = Concern.objects.get(slug="anxiety")
    grief = Concern.objects.get(slug="grief")
    therapist.concerns.add(anxiety)

    def other(name: str, concern: Concern, next_in: dt.timedelta | None) -> TherapistProfile:
        profile = make_therapist(
            display_name=name, next_consultation_at=now + next_in if next_in else None
        )
        profile.concerns.add(concern)
        return profile

    soonest = other("Bea Soonest", anxiety, dt.timedelta(days=1))
    later = other("Cal Later", anxiety, dt.timedelta(days=2))
    other("Dee Latest", anxiety, dt.timedelta(days=3))
    other("Eve Fourth", anxiety, dt.timedelta(days=4))
    other("Fay Unrelated", grief, dt.timedelta(hours=2))
    other("Gus Nothing Free", anxiety, None)
    appointment = make_maya_appointment(
        therapist,
        status=AppointmentStatus.EXPIRED,
        ended_by=Party.SYSTEM,
        ended_at=now,
    )
    row = write_later(appointment, outbox.PURPOSE_EXPIRED, Party.CLIENT)
    outbox.outbox_deliver(email_id=row.pk, now=row.due_at)

    [message] = mailoutbox
    listed = [line[2:].split(",")[0] for line in message.body.splitlines() if line[:2] == "- "]
    assert listed == ["Bea Soonest", "Cal Later", "Dee Latest"]
    assert f"https://rapport.example/therapists/{soonest.public_id}/" in message.body
    assert f"https://rapport.example/therapists/{later.public_id}/" in message.body
    assert calendar_part(message).get_param("method") == "CANCEL"


# --- with the booking service --------------------------------------------------------------


def _bookable_time(therapist: TherapistProfile, now: dt.datetime) -> dt.datetime:
    from rapport.booking import slots

    give_availability(
        therapist,
        weekdays=(0, 1, 2, 3, 4, 5, 6),
        starts_at=dt.time(0, 0),
        ends_at=dt.time(23, 45),
        minimum_notice_hours=48,
    )
    free = slots.therapist_next_free_time(therapist=therapist, now=now)
    assert free is not None
    return free.starts_at


@pytest.mark.django_db
def test_a_booking_e_mails_both_sides_and_queues_the_reminders(
    therapist, mailoutbox, django_capture_on_commit_callbacks
):
    from rapport.booking import services

    now = timezone.now()
    starts_at = _bookable_time(therapist, now)

    with django_capture_on_commit_callbacks(execute=True):
        appointment = services.consultation_book(
            therapist=therapist,
            starts_at=starts_at,
            client_name="Maya Lindqvist",
            client_email="maya@example.org",
            client_time_zone="Europe/Berlin",
            now=now,
        )

    assert sorted(message.to[0] for message in mailoutbox) == [
        "ada@example.org",
        "maya@example.org",
    ]
    assert "Berlin time" in next(m.body for m in mailoutbox if m.to == ["maya@example.org"])
    pending = OutboxEmail.objects.filter(status=OutboxStatus.PENDING, appointment=appointment)
    assert sorted(pending.values_list("purpose", flat=True)) == ["reminder_1h", "reminder_24h"]


@pytest.mark.django_db
def test_a_crash_inside_the_booking_service_leaves_no_booking_and_no_mail(
    therapist, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    from rapport.booking import services

    now = timezone.now()
    starts_at = _bookable_time(therapist, now)

    def crash(**kwargs: Any) -> None:
        raise RuntimeError("the process died after writing the e-mails")

    # Called after the booking and its e-mails are written, still inside the transaction.
    monkeypatch.setattr(outbox, "outbox_reminders_write", crash)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        services.consultation_book(
            therapist=therapist,
            starts_at=starts_at,
            client_name="Maya Lindqvist",
            client_email="maya@example.org",
            client_time_zone="Europe/Berlin",
            now=now,
        )

    assert Appointment.objects.count() == 0
    assert OutboxEmail.objects.count() == 0
    assert mailoutbox == []


# --- out-of-date e-mails are skipped -------------------------------------------------------


@pytest.mark.django_db
def test_a_late_booked_e_mail_is_skipped_once_the_appointment_is_cancelled(
    appointment, mailoutbox, settings
):
    booked = write_later(appointment, outbox.PURPOSE_BOOKED, Party.CLIENT)
    settings.EMAIL_BACKEND = FAILING_BACKEND
    assert outbox.outbox_deliver(email_id=booked.pk, now=booked.due_at) == OutboxStatus.PENDING
    settings.EMAIL_BACKEND = LOCMEM_BACKEND
    # What a cancellation does: ended, sequence raised, the cancelled e-mail written.
    appointment.status = AppointmentStatus.CANCELLED
    appointment.ended_by = Party.THERAPIST
    appointment.ended_at = timezone.now()
    appointment.end_reason = "I am ill this week."
    appointment.sequence += 1
    appointment.save()
    cancelled = write_later(appointment, outbox.PURPOSE_CANCELLED, Party.CLIENT)

    # The retry of the booked e-mail is due; so is the cancellation.
    assert outbox.outbox_deliver_due(now=cancelled.due_at + dt.timedelta(minutes=5)) == 1

    booked.refresh_from_db()
    cancelled.refresh_from_db()
    assert (booked.status, booked.last_error) == (
        OutboxStatus.SKIPPED,
        "The appointment is no longer active.",
    )
    assert cancelled.status == OutboxStatus.SENT
    [message] = mailoutbox
    assert message.subject.startswith("[Rapport] Cancelled:")


@pytest.mark.django_db
def test_a_late_e_mail_about_an_earlier_time_is_skipped_after_a_reschedule(appointment, mailoutbox):
    confirmed = write_later(appointment, outbox.PURPOSE_CONFIRMED, Party.CLIENT)
    appointment.starts_at += dt.timedelta(days=1)
    appointment.ends_at += dt.timedelta(days=1)
    appointment.sequence += 1
    appointment.save()
    rescheduled = write_later(appointment, outbox.PURPOSE_RESCHEDULED, Party.CLIENT)

    assert outbox.outbox_deliver_due(now=rescheduled.due_at) == 1

    confirmed.refresh_from_db()
    assert (confirmed.status, confirmed.last_error) == (
        OutboxStatus.SKIPPED,
        "The appointment changed after this e-mail was written.",
    )
    [message] = mailoutbox
    assert message.subject.startswith("[Rapport] New time:")


@pytest.mark.django_db
def test_endings_are_sent_although_the_appointment_is_no_longer_active(therapist, mailoutbox):
    appointment = make_maya_appointment(
        therapist,
        status=AppointmentStatus.DECLINED,
        ended_by=Party.THERAPIST,
        ended_at=timezone.now(),
        end_reason="My practice is full.",
        sequence=1,
    )
    row = write_later(appointment, outbox.PURPOSE_DECLINED, Party.CLIENT)
    # A later change (say an admin correction) raised the sequence again.
    Appointment.objects.filter(pk=appointment.pk).update(sequence=2)

    assert outbox.outbox_deliver(email_id=row.pk, now=row.due_at) == OutboxStatus.SENT
    assert len(mailoutbox) == 1


# --- the reason for an ending goes to the other person, in the body only -------------------


def _ended(therapist: TherapistProfile, status: str, by: Party, reason: str) -> Appointment:
    return make_maya_appointment(
        therapist,
        status=status,
        ended_by=by,
        ended_at=timezone.now(),
        end_reason=reason,
        sequence=1,
    )


def _deliver(appointment: Appointment, purpose: str, recipient: Party) -> mail.EmailMessage:
    row = write_later(appointment, purpose, recipient)
    before = len(mail.outbox)
    assert outbox.outbox_deliver(email_id=row.pk, now=row.due_at) == OutboxStatus.SENT
    assert len(mail.outbox) == before + 1
    return mail.outbox[-1]


@pytest.mark.django_db
def test_a_therapist_cancellation_shows_their_note_to_the_client(therapist, mailoutbox):
    appointment = _ended(
        therapist,
        AppointmentStatus.CANCELLED,
        Party.THERAPIST,
        "I have to travel that week.\nSorry for the change.",
    )

    to_client = _deliver(appointment, outbox.PURPOSE_CANCELLED, Party.CLIENT)
    to_therapist = _deliver(appointment, outbox.PURPOSE_CANCELLED, Party.THERAPIST)

    assert "Their note:\n  I have to travel that week.\n  Sorry for the change.\n" in (
        to_client.body
    )
    assert "travel" not in to_client.subject
    assert "travel" not in calendar_text(to_client)
    # The therapist wrote it; their own copy does not repeat it.
    assert "Their note" not in to_therapist.body
    assert "travel" not in to_therapist.body


@pytest.mark.django_db
def test_a_client_cancellation_shows_their_note_to_the_therapist(therapist, mailoutbox):
    appointment = _ended(
        therapist, AppointmentStatus.CANCELLED, Party.CLIENT, "Something came up at work."
    )

    to_therapist = _deliver(appointment, outbox.PURPOSE_CANCELLED, Party.THERAPIST)
    to_client = _deliver(appointment, outbox.PURPOSE_CANCELLED, Party.CLIENT)

    assert "Their note:\n  Something came up at work.\n" in to_therapist.body
    assert "Something came up" not in to_therapist.subject
    assert "Something came up" not in calendar_text(to_therapist)
    assert "Their note" not in to_client.body


@pytest.mark.django_db
def test_a_decline_shows_the_therapist_note_to_the_client(therapist, mailoutbox):
    appointment = _ended(
        therapist,
        AppointmentStatus.DECLINED,
        Party.THERAPIST,
        "I only work with couples; a colleague of mine could help.",
    )

    message = _deliver(appointment, outbox.PURPOSE_DECLINED, Party.CLIENT)

    assert "Their note:\n  I only work with couples; a colleague of mine could help.\n" in (
        message.body
    )
    assert "If they left you a note" not in message.body
    assert "couples" not in message.subject
    assert "couples" not in calendar_text(message)


# --- calendar files for the therapist ------------------------------------------------------


@pytest.mark.django_db
def test_a_request_e_mails_the_therapist_without_a_calendar_invitation(therapist, mailoutbox):
    appointment = make_maya_appointment(therapist, status=AppointmentStatus.REQUESTED)

    to_therapist = _deliver(appointment, outbox.PURPOSE_REQUESTED, Party.THERAPIST)
    to_client = _deliver(appointment, outbox.PURPOSE_REQUESTED, Party.CLIENT)

    # A decline or expiry e-mails only the client, so a tentative event sent to the therapist
    # would stay in their calendar; they see requests on the practice page and in the feed.
    assert to_therapist.attachments == []
    assert "text/calendar" not in to_therapist.message().as_string()
    assert "STATUS:TENTATIVE" in calendar_text(to_client)


@pytest.mark.django_db
def test_a_moved_request_e_mails_the_therapist_without_a_calendar_invitation(therapist, mailoutbox):
    appointment = make_maya_appointment(therapist, status=AppointmentStatus.REQUESTED, sequence=1)

    message = _deliver(appointment, outbox.PURPOSE_RESCHEDULED, Party.THERAPIST)

    assert message.attachments == []
    assert "attached" not in message.body


@pytest.mark.django_db
def test_a_moved_confirmed_appointment_e_mails_the_therapist_an_invitation(therapist, mailoutbox):
    appointment = make_maya_appointment(therapist, sequence=1)

    message = _deliver(appointment, outbox.PURPOSE_RESCHEDULED, Party.THERAPIST)

    assert calendar_part(message).get_param("method") == "REQUEST"
    assert "The attached calendar update moves the event" in message.body


# --- sessions are not free consultations ---------------------------------------------------


@pytest.mark.django_db
def test_a_booked_session_is_called_a_session(therapist, mailoutbox):
    starts_at = dt.datetime(2031, 7, 15, 16, 0, tzinfo=dt.UTC)
    session = make_maya_appointment(therapist, starts_at=starts_at, kind=AppointmentKind.SESSION)

    to_client = _deliver(session, outbox.PURPOSE_BOOKED, Party.CLIENT)
    to_therapist = _deliver(session, outbox.PURPOSE_BOOKED, Party.THERAPIST)

    assert to_client.subject == f"[Rapport] Your session is booked — {VANCOUVER_NINE}"
    assert "Your session with Ada Okafor is booked:" in to_client.body
    assert to_therapist.subject == f"[Rapport] New session booked — {TORONTO_NOON}"
    assert "Your session with Maya is booked:" in to_therapist.body
    for message in (to_client, to_therapist):
        assert "free" not in message.body
        assert "consultation" not in message.subject


@pytest.mark.django_db
def test_a_booked_consultation_is_still_called_a_free_consultation(therapist, mailoutbox):
    starts_at = dt.datetime(2031, 7, 15, 16, 0, tzinfo=dt.UTC)
    appointment = make_maya_appointment(therapist, starts_at=starts_at)

    to_client = _deliver(appointment, outbox.PURPOSE_BOOKED, Party.CLIENT)
    to_therapist = _deliver(appointment, outbox.PURPOSE_BOOKED, Party.THERAPIST)

    assert to_client.subject == f"[Rapport] Your free consultation is booked — {VANCOUVER_NINE}"
    assert "It is a short, free conversation" in to_client.body
    assert "Maya booked a free consultation with you:" in to_therapist.body


@pytest.mark.django_db
def test_a_move_shows_the_movers_note_to_the_other_person_only(therapist, mailoutbox):
    appointment = make_maya_appointment(
        therapist,
        status=AppointmentStatus.CONFIRMED,
        change_reason="My train was cancelled.",
        changed_by=Party.CLIENT,
        sequence=1,
    )

    to_therapist = _deliver(appointment, outbox.PURPOSE_RESCHEDULED, Party.THERAPIST)
    to_client = _deliver(appointment, outbox.PURPOSE_RESCHEDULED, Party.CLIENT)

    assert "Their note:\n  My train was cancelled.\n" in to_therapist.body
    assert "train" not in to_therapist.subject
    assert "Their note" not in to_client.body
    assert "train" not in calendar_text(to_client)


@pytest.mark.django_db
@pytest.mark.parametrize("purpose", outbox.PURPOSES)
@pytest.mark.parametrize("recipient", [Party.CLIENT, Party.THERAPIST])
def test_no_subject_names_the_client_or_the_therapist(therapist, mailoutbox, purpose, recipient):
    """Subjects show on lock screens and in notification previews; names stay in the body."""
    starts_at = dt.datetime(2031, 7, 15, 16, 0, tzinfo=dt.UTC)
    appointment = make_maya_appointment(therapist, starts_at=starts_at)
    if purpose in (outbox.PURPOSE_DECLINED, outbox.PURPOSE_EXPIRED, outbox.PURPOSE_CANCELLED):
        Appointment.objects.filter(pk=appointment.pk).update(
            status={
                outbox.PURPOSE_DECLINED: AppointmentStatus.DECLINED,
                outbox.PURPOSE_EXPIRED: AppointmentStatus.EXPIRED,
                outbox.PURPOSE_CANCELLED: AppointmentStatus.CANCELLED,
            }[purpose],
            ended_by=Party.SYSTEM,
            ended_at=starts_at - dt.timedelta(days=1),
        )
        appointment.refresh_from_db()

    message = _deliver(appointment, purpose, recipient)

    assert message.subject.startswith("[Rapport] ")
    for name in ("Maya", "Lindqvist", "Ada", "Okafor"):
        assert name not in message.subject
    # The body still says who: the client reads the therapist's name, the therapist the
    # client's first name.
    assert ("Ada Okafor" if recipient == Party.CLIENT else "Maya") in message.body
