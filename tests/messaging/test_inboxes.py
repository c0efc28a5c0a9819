"""The inboxes and the API's list of threads: a fixed number of queries however many threads
(no query per thread), the closed ones still told apart; a therapist who is also someone's
client finds their own conversations from the practice inbox; the sent notice's reading of the
message is audited; Retry-After rounds up."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.booking.models import Appointment
from rapport.messaging import services
from rapport.messaging.errors import DailyCapReached
from rapport.messaging.models import Message, Sender
from tests.factories import make_user
from tests.messaging.factories import make_consultation_thread, signed_in

pytestmark = pytest.mark.django_db


def _close(thread) -> None:
    """The consultation ended long ago: the thread is for reading only."""
    long_ago = timezone.now() - dt.timedelta(days=30)
    Appointment.objects.filter(pk=thread.consultation_id).update(
        starts_at=long_ago, ends_at=long_ago + dt.timedelta(hours=1)
    )


def _queries(browser, url: str) -> int:
    browser.get(url)  # once first: the session and the header's cached answers settle
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(url).status_code == 200
    return len(captured)


def test_the_client_inbox_and_api_list_take_the_same_queries_for_2_or_6_threads(
    reference_data,
):
    client = make_user(role="client")
    threads = [make_consultation_thread(client=client) for _ in range(2)]
    _close(threads[0])
    browser = signed_in(client)
    few_page = _queries(browser, "/messages/")
    few_api = _queries(browser, "/api/v1/threads")
    threads += [make_consultation_thread(client=client) for _ in range(4)]
    for thread in threads[2:5]:
        _close(thread)
    assert _queries(browser, "/messages/") == few_page
    assert _queries(browser, "/api/v1/threads") == few_api
    listed = {row["id"]: row["can_write"] for row in browser.get("/api/v1/threads").json()}
    closed = {str(t.public_id) for t in (threads[0], *threads[2:5])}
    assert {key for key, writable in listed.items() if not writable} == closed
    page = browser.get("/messages/").content.decode()
    assert page.count(f"/messages/{threads[0].public_id}/") == 1


def test_the_practice_inbox_takes_the_same_queries_for_2_or_6_threads(
    reference_data, django_assert_max_num_queries
):
    soon = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)

    def at(hour: int) -> dt.datetime:
        return soon + dt.timedelta(hours=hour)

    first = make_consultation_thread(starts_at=at(0))
    therapist = first.therapist
    make_consultation_thread(therapist=therapist, starts_at=at(2))
    browser = signed_in(therapist.user)
    few = _queries(browser, "/practice/messages/")
    few_api = _queries(browser, "/api/v1/threads")
    for hour in range(4):
        make_consultation_thread(therapist=therapist, starts_at=at(4 + 2 * hour))
    with django_assert_max_num_queries(few):
        assert browser.get("/practice/messages/").status_code == 200
    with django_assert_max_num_queries(few_api):
        assert browser.get("/api/v1/threads").status_code == 200


def test_a_therapist_who_is_also_a_client_reaches_their_client_inbox(reference_data):
    mine = make_consultation_thread()
    therapist_user = mine.therapist.user
    practice = signed_in(therapist_user).get("/practice/messages/").content.decode()
    assert "your messages as a client" not in practice
    # The same person books a consultation with another therapist.
    own = make_consultation_thread(client=therapist_user)
    browser = signed_in(therapist_user)
    practice = browser.get("/practice/messages/").content.decode()
    assert 'href="/messages/">your messages as a client</a>' in practice
    inbox = browser.get("/messages/").content.decode()
    assert f"/messages/{own.public_id}/" in inbox


def test_the_sent_notice_records_its_reading_of_the_message(thread):
    browser = signed_in(thread.client)
    response = browser.post(f"/messages/{thread.public_id}/", {"body": "See you Tuesday"})
    message = Message.objects.get()
    reads = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(message.pk))
    before = reads.count()
    browser.get(response["Location"])
    # Once as shown in the thread, once as read for the notice's crisis check.
    assert reads.count() == before + 2
    browser.get(f"/messages/{thread.public_id}/")
    assert reads.count() == before + 3


@pytest.mark.parametrize(
    ("seconds", "header"),
    [(10.2, "11"), (10.0, "10"), (0.3, "1"), (-5.0, "1"), (86_399.001, "86400")],
)
def test_retry_after_rounds_up_to_whole_seconds(seconds, header):
    now = dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.UTC)
    error = DailyCapReached("x", resets_at=now + dt.timedelta(seconds=seconds))
    assert error.retry_after(now) == header


def test_the_therapist_side_never_counts_toward_the_cap(thread):
    # (A therapist's many replies leave the client's allowance alone.)
    for _ in range(5):
        services.message_send(
            thread=thread, sender=Sender.THERAPIST, body="Noted.", now=timezone.now()
        )
    page = signed_in(thread.client).get(f"/messages/{thread.public_id}/").content.decode()
    assert "You can send 3 more messages now" in page
