"""Availability, appointments and the e-mail outbox.

Times of appointments are stored in UTC; availability rules are wall-clock times in the
therapist's IANA zone (``TherapistProfile.time_zone``), turned into real instants only when slots
are generated (``slots.py``), so a rule like "Mondays 9:00–12:00" stays 9:00 across DST changes.

The database, not Python, guarantees that a therapist never has two overlapping active
appointments: an exclusion constraint on PostgreSQL and triggers on SQLite, both added by
migration 0002 (Django's model constraints cannot express either portably).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from rapport.core.fields import EncryptedTextField
from rapport.directory.models import Office, TherapistProfile

# A meeting link is typed by the therapist and opened by clients: long enough for any real
# video service's link, short enough to refuse pasted paragraphs.
MEETING_LINK_MAX_LENGTH = 500
# Longest phone number we keep as typed (E.164 has at most 15 digits; spaces, dashes,
# brackets, a leading + and an extension fit in this).
PHONE_MAX_LENGTH = 40


class ConsultationMethod(models.TextChoices):
    """How a free consultation happens; the empty value means the therapist has not said."""

    PHONE = "phone", "By phone: I call the client"
    VIDEO = "video", "By video: my own meeting link"
    IN_PERSON = "in_person", "In person: at one of my offices"


def new_feed_token() -> str:
    """A calendar feed URL is a bearer secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


class BookingPolicy(models.Model):
    """How a therapist's free consultations may be booked (one row per therapist)."""

    therapist = models.OneToOneField(
        TherapistProfile, on_delete=models.CASCADE, related_name="booking_policy"
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        default=10,
        validators=[MaxValueValidator(120)],
        help_text="Free time kept before and after every appointment.",
    )
    minimum_notice_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MaxValueValidator(336)],
        help_text="How far ahead of now the earliest bookable consultation starts.",
    )
    horizon_days = models.PositiveSmallIntegerField(
        default=21,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="How many days ahead clients may book.",
    )
    max_consultations_per_day = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text="At most this many consultations on one day (in the therapist's zone).",
    )
    requires_confirmation = models.BooleanField(
        default=False,
        help_text="Requests wait for the therapist; unanswered ones are declined after 48 hours.",
    )
    # How consultations happen. Empty until the therapist says (older policies); the pages then
    # say the therapist will get in touch about it.
    consultation_method = models.CharField(
        max_length=10, choices=ConsultationMethod.choices, blank=True, default=""
    )
    # Video only: the therapist's own meeting link (https), shown only to the client of each
    # appointment and to the therapist, never on the public profile or API.
    meeting_link = models.URLField(max_length=MEETING_LINK_MAX_LENGTH, blank=True)
    # In person only: which of the therapist's offices (its address and access notes).
    office = models.ForeignKey(
        Office, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A private, revocable URL for subscribing from Google, Apple or Outlook calendars.
    feed_token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    feed_token_created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "booking policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(buffer_minutes__lte=120), name="booking_policy_buffer_range"
            ),
            models.CheckConstraint(
                condition=Q(minimum_notice_hours__lte=336), name="booking_policy_notice_range"
            ),
            models.CheckConstraint(
                condition=Q(horizon_days__gte=1) & Q(horizon_days__lte=90),
                name="booking_policy_horizon_range",
            ),
            models.CheckConstraint(
                condition=Q(max_consultations_per_day__gte=1)
                & Q(max_consultations_per_day__lte=24),
                name="booking_policy_daily_cap_range",
            ),
            models.CheckConstraint(
                condition=Q(consultation_method__in=[*ConsultationMethod.values, ""]),
                name="booking_policy_method_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Booking policy of {self.therapist}"

    @property
    def buffer(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.buffer_minutes)


class Weekday(models.IntegerChoices):
    # Python's date.weekday() numbering, so no translation is needed anywhere.
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


class WeeklyWindow(models.Model):
    """A recurring stretch of bookable time, in the therapist's zone ("Tuesdays 9:00–12:00").

    A window never crosses midnight; evening-into-night availability is two windows.
    """

    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, related_name="weekly_windows"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts_at = models.TimeField()
    ends_at = models.TimeField()

    class Meta:
        ordering = ("therapist", "weekday", "starts_at")
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="weekly_window_weekday_range"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="weekly_window_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{Weekday(self.weekday).label} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class ExceptionKind(models.TextChoices):
    TIME_OFF = "time_off", "Time off"
    EXTRA_HOURS = "extra_hours", "Extra hours"


class DateException(models.Model):
    """A change to one date's availability, in the therapist's zone.

    Time off without times blocks the whole day; with times it blocks that stretch. Extra hours
    always have times and add bookable time even on a day with no weekly window.
    """

    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, related_name="date_exceptions"
    )
    date = models.DateField()
    kind = models.CharField(max_length=12, choices=ExceptionKind.choices)
    starts_at = models.TimeField(null=True, blank=True)
    ends_at = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ("therapist", "date", "starts_at")
        indexes = [models.Index(fields=("therapist", "date"), name="booking_exception_date_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ExceptionKind.values), name="date_exception_kind_valid"
            ),
            # Both times or neither; when given, the end is after the start.
            models.CheckConstraint(
                condition=(Q(starts_at__isnull=True) & Q(ends_at__isnull=True))
                | (
                    Q(starts_at__isnull=False)
                    & Q(ends_at__isnull=False)
                    & Q(ends_at__gt=F("starts_at"))
                ),
                name="date_exception_times_paired",
            ),
            models.CheckConstraint(
                condition=~Q(kind=ExceptionKind.EXTRA_HOURS) | Q(starts_at__isnull=False),
                name="date_exception_extra_hours_have_times",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.date}"


class AppointmentKind(models.TextChoices):
    CONSULTATION = "consultation", "Free consultation"
    # Sessions are booked by the therapist (for now: the first session after a consultation);
    # they block time like consultations and feed the consultation-to-first-session rate.
    SESSION = "session", "Session"


class AppointmentStatus(models.TextChoices):
    REQUESTED = "requested", "Waiting for the therapist"
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Not answered in time"


# Appointments in these states hold their time: the overlap guarantee applies to them only.
ACTIVE_STATUSES = (AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED)


class Party(models.TextChoices):
    """Who did something to an appointment."""

    CLIENT = "client", "Client"
    THERAPIST = "therapist", "Therapist"
    SYSTEM = "system", "Rapport"


class Appointment(models.Model):
    """A consultation or session between a therapist and a client, at an instant in UTC.

    ``public_id`` is the id in URLs, tokens and the calendar UID; ``sequence`` is the RFC 5545
    SEQUENCE, raised on every change a calendar must pick up (reschedule, cancel).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, related_name="appointments"
    )
    kind = models.CharField(
        max_length=12, choices=AppointmentKind.choices, default=AppointmentKind.CONSULTATION
    )
    status = models.CharField(max_length=12, choices=AppointmentStatus.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    # The client: an account is optional when booking; it is linked (or created) once the
    # client confirms their address from the confirmation e-mail.
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointments",
    )
    client_name = models.CharField(max_length=120)
    client_email = models.EmailField()
    client_time_zone = models.CharField(max_length=64, help_text="IANA zone the client sees.")
    client_email_confirmed_at = models.DateTimeField(null=True, blank=True)
    share_fit_profile = models.BooleanField(
        default=False, help_text="The client chose to share their fit profile with the therapist."
    )
    # How this consultation happens, as the therapist's policy said when it was booked: a
    # later change of method must not leave a booked client waiting for a call that never
    # comes. Empty for sessions and for consultations booked before methods existed.
    consultation_method = models.CharField(
        max_length=10, choices=ConsultationMethod.choices, blank=True, default=""
    )
    # The number the therapist calls (phone consultations only). Personal data next to a
    # health matter: encrypted at rest, masked in the audit log, shown only to the two people.
    client_phone = EncryptedTextField(max_length=PHONE_MAX_LENGTH, blank=True)
    # The consultation this session follows, which is how the consultation-to-first-session
    # rate is counted.
    follows = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )

    sequence = models.PositiveIntegerField(default=0)
    # First answer from the therapist (confirm, decline, acknowledge, reschedule or cancel):
    # the basis of "usually replies within …".
    therapist_responded_at = models.DateTimeField(null=True, blank=True)
    # The note from whoever last moved the appointment, for the other side to read. Both
    # reasons are what a client or therapist wrote about the client's care: health data,
    # encrypted at rest and audited (registered in BookingConfig.ready()).
    change_reason = EncryptedTextField(max_length=500, blank=True)
    changed_by = models.CharField(max_length=10, choices=Party.choices, blank=True)
    ended_by = models.CharField(max_length=10, choices=Party.choices, blank=True)
    end_reason = EncryptedTextField(max_length=500, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("starts_at", "id")
        indexes = [
            models.Index(fields=("therapist", "starts_at"), name="booking_appt_therapist_idx"),
            models.Index(fields=("status", "starts_at"), name="booking_appt_status_idx"),
            models.Index(fields=("client_email",), name="booking_appt_client_email_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AppointmentStatus.values), name="appointment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=AppointmentKind.values), name="appointment_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(consultation_method__in=[*ConsultationMethod.values, ""]),
                name="appointment_method_valid",
            ),
            models.CheckConstraint(
                condition=Q(ended_by__in=[*Party.values, ""]), name="appointment_ended_by_valid"
            ),
            models.CheckConstraint(
                condition=Q(changed_by__in=[*Party.values, ""]),
                name="appointment_changed_by_valid",
            ),
            # A declined, cancelled or expired appointment says who ended it and when.
            models.CheckConstraint(
                condition=Q(status__in=ACTIVE_STATUSES)
                | (Q(ended_at__isnull=False) & ~Q(ended_by="")),
                name="appointment_ended_has_who_and_when",
            ),
        ]

    def __str__(self) -> str:
        when = f"{self.starts_at:%Y-%m-%d %H:%M} UTC"
        return f"{self.get_kind_display()} with {self.therapist} at {when}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def calendar_uid(self) -> str:
        """Stable across reschedules, so calendars update the event instead of adding one."""
        return f"{self.public_id}@rapport"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "No longer needed"
    FAILED = "failed", "Gave up"


class OutboxEmail(models.Model):
    """An e-mail about an appointment, written in the same transaction as the change it reports.

    A crash after the change can therefore not lose the e-mail, and ``dedupe_key`` (unique) keeps
    a retried change from writing it twice. The task worker delivers due rows (``outbox.py``):
    it claims a row, sends with a stable Message-ID, and marks it sent.
    """

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="emails")
    # What the e-mail is: booked, confirmed, declined, cancelled, rescheduled, reminder_24h, …
    purpose = models.CharField(max_length=32)
    recipient = models.CharField(max_length=10, choices=Party.choices)
    # The appointment's sequence when this was written: a reminder for an old time is skipped.
    sequence = models.PositiveIntegerField()
    dedupe_key = models.CharField(max_length=120, unique=True)
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("due_at", "id")
        indexes = [models.Index(fields=("status", "due_at"), name="booking_outbox_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OutboxStatus.values), name="outbox_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=OutboxStatus.SENT) | Q(sent_at__isnull=False),
                name="outbox_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} to {self.recipient} ({self.status})"
