"""How long a therapist takes to answer clients' messages: messaging's part of booking's median
reply figure (registered with ``rapport.booking.hooks.register_reply_minutes_source``).

One value per turn, not per message: a turn starts with the client's first message after the
therapist last wrote in the thread (three messages in a row wait together) and ends with the
therapist's next message. A turn still unanswered counts with its wait so far once it is older
than the therapist's stated reply window: leaving it out would make ignoring messages look
like answering quickly, while one inside the window is not late yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rapport.directory.models import TherapistProfile
from rapport.messaging.models import Message, Sender


def message_reply_minutes(
    therapist: TherapistProfile, since: dt.datetime, now: dt.datetime
) -> Sequence[float]:
    rows = (
        Message.objects.filter(thread__therapist=therapist, created_at__gte=since)
        .order_by("thread_id", "created_at", "id")
        .values_list("thread_id", "sender", "created_at")
    )
    window = dt.timedelta(hours=therapist.reply_within_hours)
    minutes: list[float] = []
    waiting: dt.datetime | None = None
    current_thread = None

    def unanswered() -> None:
        if waiting is not None and now - waiting > window:
            minutes.append((now - waiting).total_seconds() / 60)

    for thread_id, sender, created_at in rows:
        if thread_id != current_thread:
            unanswered()
            current_thread, waiting = thread_id, None
        if sender == Sender.CLIENT:
            waiting = waiting or created_at
        elif waiting is not None:
            minutes.append(max((created_at - waiting).total_seconds(), 0) / 60)
            waiting = None
    unanswered()
    return minutes
