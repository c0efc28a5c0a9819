"""Messaging's shared fixtures: the usual thread (an open engagement whose therapist accepts
brief check-ins, so any message may be sent)."""

from __future__ import annotations

import pytest

from rapport.directory.models import BetweenSessionContact
from rapport.messaging.models import Thread
from tests.messaging.factories import make_engagement_thread


@pytest.fixture
def thread(reference_data) -> Thread:
    thread = make_engagement_thread()
    thread.therapist.between_session_contact = BetweenSessionContact.BRIEF_CHECK_INS
    thread.therapist.save(update_fields=["between_session_contact"])
    return thread
