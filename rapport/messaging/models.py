"""Threads, messages, the therapist's messaging settings, and the digest record.

A thread is one client and one therapist talking for one reason: an engagement (care) or a
booked consultation (booking). Messages are health data: the body is encrypted at rest and
audited (registered in ``MessagingConfig.ready()``). ``read_at`` is the recipient's unread
state only; no page ever shows it to the sender, so nobody is pressed into replying by a read
receipt.

The contact policy itself (none / scheduling questions / brief check-ins, the reply window, the
free-text hours) lives on ``TherapistProfile``; ``MessagingSettings`` adds only what messaging
needs and the directory lacks: structured hours and the per-client daily cap.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.db.models.signals import post_delete
from django.dispatch import receiver

from rapport.booking.models import Appointment
from rapport.care.models import Engagement
from rapport.core.fields import EncryptedTextField
from rapport.directory.models import TherapistProfile
from rapport.messaging.attachments import attachment_storage

# Long enough for logistics and a brief check-in, short enough that messages stay messages.
MAX_BODY_LENGTH = 2000
DEFAULT_DAILY_CAP = 3
MAX_DAILY_CAP = 20
# Bits of ``MessagingSettings.contact_days``: Monday is 1, Tuesday 2, … Sunday 64 (Python's
# date.weekday() numbering, so bit = 1 << weekday).
ALL_DAYS = 0b1111111
WEEKDAYS = 0b0011111


def _token_length_bound(characters: int) -> int:
    """The longest Fernet token a text of ``characters`` characters can become: UTF-8 takes at
    most 4 bytes a character; a token is base64url of version (1) + time (8) + IV (16) + the
    text padded to whole 16-byte blocks + HMAC (32)."""
    plain = 4 * characters
    raw = 1 + 8 + 16 + (plain // 16 + 1) * 16 + 32
    return -(-raw // 3) * 4


# The column holds a token, so the database cannot check the text's length; it can check that
# the token is no longer than the longest text allowed can make it.
MAX_BODY_TOKEN_LENGTH = _token_length_bound(MAX_BODY_LENGTH)


class Sender(models.TextChoices):
    CLIENT = "client", "Client"
    THERAPIST = "therapist", "Therapist"


class MessagingSettings(models.Model):
    """When a therapist reads messages, and how many a client may send a day (one row per
    therapist; a therapist without one has no set hours and the default cap)."""

    therapist = models.OneToOneField(
        TherapistProfile, on_delete=models.CASCADE, related_name="messaging_settings"
    )
    # Days the therapist reads messages (bit 1 << weekday); 0 means no set hours.
    contact_days = models.PositiveSmallIntegerField(default=0)
    # Wall-clock times in the therapist's zone (``TherapistProfile.time_zone``): "9:00 stays
    # 9:00" across daylight-saving changes. Both or neither; the end is after the start.
    contact_starts_at = models.TimeField(null=True, blank=True)
    contact_ends_at = models.TimeField(null=True, blank=True)
    daily_cap = models.PositiveSmallIntegerField(
        default=DEFAULT_DAILY_CAP,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DAILY_CAP)],
        help_text="Messages one client may send you in a day (their day).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "messaging settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(contact_days__gte=0) & Q(contact_days__lte=ALL_DAYS),
                name="messaging_settings_days_range",
            ),
            models.CheckConstraint(
                condition=Q(daily_cap__gte=1) & Q(daily_cap__lte=MAX_DAILY_CAP),
                name="messaging_settings_cap_range",
            ),
            # Hours are whole: days and both times, or none of them.
            models.CheckConstraint(
                condition=(
                    Q(contact_days=0)
                    & Q(contact_starts_at__isnull=True)
                    & Q(contact_ends_at__isnull=True)
                )
                | (
                    Q(contact_days__gt=0)
                    & Q(contact_starts_at__isnull=False)
                    & Q(contact_ends_at__gt=F("contact_starts_at"))
                ),
                name="messaging_settings_hours_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"Messaging settings of {self.therapist}"

    @property
    def has_hours(self) -> bool:
        return self.contact_days > 0

    def reads_on(self, weekday: int) -> bool:
        return bool(self.contact_days & (1 << weekday))

    @property
    def weekdays(self) -> list[int]:
        return [day for day in range(7) if self.reads_on(day)]

    @property
    def hours(self) -> tuple[dt.time, dt.time] | None:
        if self.contact_starts_at is None or self.contact_ends_at is None:
            return None
        return self.contact_starts_at, self.contact_ends_at


class Thread(models.Model):
    """One client and one therapist, for one reason: an engagement or a booked consultation."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_threads"
    )
    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, related_name="message_threads"
    )
    engagement = models.ForeignKey(
        Engagement, null=True, blank=True, on_delete=models.CASCADE, related_name="threads"
    )
    consultation = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="threads"
    )
    # The zone the client reads times in: the one they booked in, until they pick another.
    client_time_zone = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    # The newest message, for ordering lists without reading messages.
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-last_message_at", "-created_at", "id")
        indexes = [
            models.Index(fields=("therapist", "last_message_at"), name="messaging_thread_inbox"),
        ]
        constraints = [
            # Exactly one reason.
            models.CheckConstraint(
                condition=(Q(engagement__isnull=False) & Q(consultation__isnull=True))
                | (Q(engagement__isnull=True) & Q(consultation__isnull=False)),
                name="messaging_thread_one_reason",
            ),
            models.UniqueConstraint(
                fields=("client", "therapist", "engagement"),
                condition=Q(engagement__isnull=False),
                name="messaging_one_thread_per_engagement",
            ),
            models.UniqueConstraint(
                fields=("client", "therapist", "consultation"),
                condition=Q(consultation__isnull=False),
                name="messaging_one_thread_per_consultation",
            ),
        ]

    def __str__(self) -> str:
        return f"Thread {self.public_id}"


class Message(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=10, choices=Sender.choices)
    # What the person wrote, stored exactly as typed (HTML included) and always shown escaped.
    body = EncryptedTextField(max_length=MAX_BODY_LENGTH)
    # The client said it is about scheduling (the only kind a "none" or "scheduling questions"
    # policy accepts).
    about_scheduling = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    # When the recipient first opened the thread after it arrived; never shown to the sender.
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [
            models.Index(fields=("thread", "created_at"), name="messaging_message_thread"),
            models.Index(
                fields=("sender", "read_at"),
                condition=Q(read_at__isnull=True),
                name="messaging_message_unread",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(sender__in=Sender.values), name="messaging_message_sender_valid"
            ),
            models.CheckConstraint(
                condition=GreaterThan(Length("body"), 0)
                & LessThanOrEqual(Length("body"), MAX_BODY_TOKEN_LENGTH),
                name="messaging_message_body_length",
            ),
            models.CheckConstraint(
                condition=Q(read_at__isnull=True) | Q(read_at__gte=F("created_at")),
                name="messaging_message_read_after_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.public_id}"


class AttachmentKind(models.TextChoices):
    PDF = "pdf", "PDF"
    PNG = "png", "PNG image"
    JPEG = "jpeg", "JPEG image"
    WEBP = "webp", "WebP image"


class MessageAttachment(models.Model):
    """A file sent with a message (only when the deployer allows it: MESSAGING_ATTACHMENTS).

    The file sits in private storage under a random name (``stored_name``); ``kind`` is what its
    bytes are, decided by ``rapport.messaging.attachments``, never by its name. The sender's
    file name is kept only as ``display_name``, encrypted: it can say as much as a message. The
    file is removed from storage when the row goes (``_attachment_file_removed``)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=8, choices=AttachmentKind.choices)
    stored_name = models.CharField(max_length=100, unique=True)
    display_name = EncryptedTextField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("message", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AttachmentKind.values),
                name="messaging_attachment_kind_valid",
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="messaging_attachment_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Attachment {self.public_id}"


@receiver(post_delete, sender=MessageAttachment)
def _attachment_file_removed(*, instance: MessageAttachment, **kwargs: Any) -> None:
    """The file goes with its row (a thread deleted with an account, a cascade from an
    engagement), once the deletion is committed: a rolled-back deletion keeps its file."""
    name = instance.stored_name
    transaction.on_commit(lambda: attachment_storage().delete(name))


class DigestSent(models.Model):
    """One therapist's daily digest: at most one per day in their zone (the unique pair makes
    a second run, or a second server, a no-op)."""

    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, related_name="message_digests"
    )
    local_date = models.DateField()
    sent_at = models.DateTimeField()
    message_count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("therapist", "local_date"), name="messaging_one_digest_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"Digest for {self.therapist} on {self.local_date}"
