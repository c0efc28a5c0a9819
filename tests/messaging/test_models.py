"""The database holds messaging's rules even when Python is bypassed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from rapport.core.crypto import encrypt
from rapport.messaging.models import (
    MAX_BODY_LENGTH,
    MAX_BODY_TOKEN_LENGTH,
    Message,
    MessagingSettings,
    Thread,
)
from tests.messaging.factories import make_engagement_thread

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(reference_data) -> Thread:
    return make_engagement_thread()


def _refused(**fields) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(created_at=timezone.now(), **fields)


def test_the_token_bound_fits_the_longest_text_and_no_more():
    # Independent reading: the longest text (every character four UTF-8 bytes) encrypts to a
    # token no longer than the bound, and the bound is not loose by more than one block.
    longest = encrypt("😀" * MAX_BODY_LENGTH)
    assert len(longest) <= MAX_BODY_TOKEN_LENGTH < len(longest) + 32


def test_a_message_needs_a_body_a_known_sender_and_a_bounded_token(thread):
    _refused(thread=thread, sender="client", body="")
    _refused(thread=thread, sender="robot", body="Hello")
    # The column's length check, past the model: a token longer than any allowed text makes.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO messaging_message (public_id, thread_id, sender, body, "
            "about_scheduling, created_at) VALUES (%s, %s, 'client', %s, %s, %s)",
            ["0" * 32, thread.pk, "x" * (MAX_BODY_TOKEN_LENGTH + 1), False, timezone.now()],
        )


def test_read_is_never_before_sent(thread):
    now = timezone.now()
    _refused(thread=thread, sender="client", body="Hi", read_at=now - dt.timedelta(days=1))


def test_one_thread_per_pair_and_reason(thread):
    with pytest.raises(IntegrityError), transaction.atomic():
        Thread.objects.create(
            client=thread.client,
            therapist=thread.therapist,
            engagement=thread.engagement,
            client_time_zone="UTC",
            created_at=timezone.now(),
        )


def test_a_thread_has_exactly_one_reason(thread):
    with pytest.raises(IntegrityError), transaction.atomic():
        Thread.objects.create(
            client=thread.client,
            therapist=thread.therapist,
            client_time_zone="UTC",
            created_at=timezone.now(),
        )


@pytest.mark.parametrize(
    "fields",
    [
        {"contact_days": 0b11111, "contact_starts_at": None, "contact_ends_at": None},
        {"contact_days": 0, "contact_starts_at": dt.time(9), "contact_ends_at": dt.time(17)},
        {"contact_days": 1, "contact_starts_at": dt.time(17), "contact_ends_at": dt.time(9)},
        {"contact_days": 128},
        {"daily_cap": 0},
        {"daily_cap": 21},
    ],
)
def test_settings_hours_are_whole_and_the_cap_bounded(thread, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        MessagingSettings.objects.create(therapist=thread.therapist, **fields)
