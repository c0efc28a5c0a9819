"""Two messages sent at the same moment cannot both pass the daily cap.

``message_send`` locks every thread of the client–therapist pair (``select_for_update``, in one
order) before counting, so the second send counts the first. On SQLite, which takes no row
locks, a writing transaction holds the whole database, so the count and the insert cannot
interleave there either; the race itself is run on PostgreSQL (``scripts/with-postgres``),
where it matters, and skipped elsewhere.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from rapport.messaging import services
from rapport.messaging.errors import DailyCapReached
from rapport.messaging.models import Message, Sender
from tests.messaging.factories import make_consultation_thread, set_hours


# Skipped before any fixture runs, and serialized_rollback: a transactional test empties the
# tables, and the jurisdictions a migration loads must be back for the reference data.
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks are PostgreSQL's; SQLite serialises writers instead",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sends_at_once_in_two_threads_of_the_pair_cannot_both_pass_the_cap(thread):
    set_hours(thread.therapist, days=tuple(range(7)), daily_cap=1)
    # The engagement's thread and a consultation's: the cap counts both.
    second = make_consultation_thread(client=thread.client, therapist=thread.therapist)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def send(target) -> None:
        try:
            start.wait()
            services.message_send(
                thread=target, sender=Sender.CLIENT, body="At once", now=timezone.now()
            )
            outcomes.append("sent")
        except DailyCapReached:
            outcomes.append("capped")
        finally:
            connections.close_all()

    workers = [threading.Thread(target=send, args=(t,)) for t in (thread, second)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert sorted(outcomes) == ["capped", "sent"]
    assert Message.objects.filter(sender=Sender.CLIENT).count() == 1
