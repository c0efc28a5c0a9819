"""Signed appointment links: bound to one appointment and one purpose, expiring, and carrying
nothing personal."""

from __future__ import annotations

import base64
import datetime as dt
import time
import uuid

import pytest
from django.core import signing

from rapport.booking import tokens
from rapport.booking.errors import BadToken
from rapport.booking.models import Appointment


def appointment() -> Appointment:
    # Tokens need only the public id: no database row is involved.
    return Appointment(public_id=uuid.uuid4(), client_name="Alex Client", client_email="a@b.org")


def made_ago(monkeypatch, age: dt.timedelta) -> None:
    """Make the next tokens as if signed ``age`` ago."""
    monkeypatch.setattr(
        signing.TimestampSigner,
        "timestamp",
        lambda self: signing.b62_encode(int(time.time() - age.total_seconds())),
    )


@pytest.mark.parametrize("purpose", tokens.PURPOSES)
def test_token_names_its_appointment(purpose):
    booked = appointment()
    token = tokens.appointment_token_make(appointment=booked, purpose=purpose)
    assert tokens.appointment_token_read(token=token, purpose=purpose) == booked.public_id


def test_token_carries_no_name_or_address():
    booked = appointment()
    token = tokens.appointment_token_make(appointment=booked, purpose=tokens.PURPOSE_MANAGE)
    payload = token.split(":")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert decoded == f'{{"a":"{booked.public_id.hex}"}}'
    assert "a@b.org" not in token
    assert "Alex" not in token


def test_tampered_token_is_refused():
    booked = appointment()
    token = tokens.appointment_token_make(appointment=booked, purpose=tokens.PURPOSE_MANAGE)
    other = tokens.appointment_token_make(appointment=appointment(), purpose=tokens.PURPOSE_MANAGE)
    # Another appointment's id with this token's signature.
    forged = other.split(":")[0] + ":" + token.split(":", 1)[1]
    for bad in (forged, token[:-1] + ("A" if token[-1] != "A" else "B"), "", "garbage"):
        with pytest.raises(BadToken, match="not valid"):
            tokens.appointment_token_read(token=bad, purpose=tokens.PURPOSE_MANAGE)


def test_token_for_one_purpose_is_refused_for_the_other():
    token = tokens.appointment_token_make(
        appointment=appointment(), purpose=tokens.PURPOSE_CONFIRM_EMAIL
    )
    with pytest.raises(BadToken, match="not valid"):
        tokens.appointment_token_read(token=token, purpose=tokens.PURPOSE_MANAGE)


def test_token_signed_with_another_salt_is_refused():
    booked = appointment()
    token = signing.dumps({"a": booked.public_id.hex}, compress=False)
    with pytest.raises(BadToken, match="not valid"):
        tokens.appointment_token_read(token=token, purpose=tokens.PURPOSE_MANAGE)


def test_a_confirm_address_token_expires_after_7_days(monkeypatch):
    booked = appointment()
    purpose = tokens.PURPOSE_CONFIRM_EMAIL
    made_ago(monkeypatch, dt.timedelta(days=7, minutes=-5))
    fresh_enough = tokens.appointment_token_make(appointment=booked, purpose=purpose)
    made_ago(monkeypatch, dt.timedelta(days=7, minutes=5))
    too_old = tokens.appointment_token_make(appointment=booked, purpose=purpose)
    assert tokens.appointment_token_read(token=fresh_enough, purpose=purpose) == booked.public_id
    with pytest.raises(BadToken, match="expired"):
        tokens.appointment_token_read(token=too_old, purpose=purpose)


def test_a_manage_token_does_not_expire_by_its_own_age(monkeypatch):
    # A session can be booked a year ahead; the link in its first e-mail must still work.
    booked = appointment()
    made_ago(monkeypatch, dt.timedelta(days=400))
    token = tokens.appointment_token_make(appointment=booked, purpose=tokens.PURPOSE_MANAGE)
    assert tokens.appointment_token_read(token=token, purpose=tokens.PURPOSE_MANAGE) == (
        booked.public_id
    )


def test_a_manage_link_works_until_7_days_after_the_appointment_ends():
    booked = appointment()
    booked.ends_at = dt.datetime(2027, 3, 1, 15, 15, tzinfo=dt.UTC)
    last_moment = dt.datetime(2027, 3, 8, 15, 15, tzinfo=dt.UTC)
    assert tokens.manage_link_expires_at(booked) == last_moment

    tokens.appointment_link_check(
        appointment=booked, purpose=tokens.PURPOSE_MANAGE, now=last_moment
    )
    with pytest.raises(BadToken, match="expired"):
        tokens.appointment_link_check(
            appointment=booked,
            purpose=tokens.PURPOSE_MANAGE,
            now=last_moment + dt.timedelta(seconds=1),
        )
    # A confirm-address link goes by its own age only.
    tokens.appointment_link_check(
        appointment=booked,
        purpose=tokens.PURPOSE_CONFIRM_EMAIL,
        now=last_moment + dt.timedelta(days=1),
    )


def test_signed_payload_of_another_shape_is_refused():
    token = signing.dumps(["not", "ours"], salt="rapport.booking.appointment-link.manage")
    with pytest.raises(BadToken, match="not valid"):
        tokens.appointment_token_read(token=token, purpose=tokens.PURPOSE_MANAGE)


def test_unknown_purpose_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown appointment link purpose"):
        tokens.appointment_token_make(appointment=appointment(), purpose="admin")
    with pytest.raises(ValueError, match="Unknown appointment link purpose"):
        tokens.appointment_token_read(token="x", purpose="admin")
