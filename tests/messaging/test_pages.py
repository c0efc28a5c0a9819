"""The messaging pages: what the client sees above and beside the box, sending and every
refusal (nothing stored), escaping, the therapist's inbox, unread state without read receipts,
and the settings page."""

from __future__ import annotations

import datetime as dt
import html
import zoneinfo

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from rapport.directory.models import BetweenSessionContact
from rapport.messaging import services
from rapport.messaging.models import Message, MessagingSettings, Sender, Thread
from rapport.messaging.selectors import PAGE_SIZE
from tests.care.factories import make_engagement
from tests.factories import make_user
from tests.messaging.factories import (
    make_consultation_thread,
    make_engagement_thread,
    set_hours,
    signed_in,
)

pytestmark = pytest.mark.django_db


def _url(thread: Thread, side: str = "client") -> str:
    if side == "client":
        return f"/messages/{thread.public_id}/"
    return f"/practice/messages/{thread.public_id}/"


def test_the_client_page_shows_the_policy_and_the_emergency_note_beside_the_box(thread):
    set_hours(thread.therapist, days=tuple(range(7)))
    page = signed_in(thread.client).get(_url(thread)).content.decode()
    assert f"How {thread.therapist.display_name} handles messages" in page
    assert "Brief check-ins between sessions" in page
    assert "Replies within 48 hours" in page
    assert "Their hours in the coming week, in your time" in page
    assert "Messages are not read in real time" in page
    assert 'href="tel:988"' in page
    assert "You can send 3 more messages now (the limit counts the last 24 hours)." in page


def test_sending_redirects_to_the_thread_with_when_to_expect_a_reply(thread):
    response = signed_in(thread.client).post(_url(thread), {"body": "Running 5 minutes late."})
    message = Message.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{_url(thread)}?sent={message.public_id}#sent"
    assert "late" not in response["Location"]
    page = signed_in(thread.client).get(response["Location"]).content.decode()
    assert "Sent. Expect a reply by" in page
    assert "Running 5 minutes late." in page


def test_outside_hours_the_page_says_when_a_reply_is_due(thread):
    # Hours only on a day that is not today in the therapist's zone: "now" is outside them.
    local_today = timezone.now().astimezone(zoneinfo.ZoneInfo(thread.therapist.time_zone))
    set_hours(thread.therapist, days=((local_today.weekday() + 3) % 7,))
    response = signed_in(thread.client).post(_url(thread), {"body": "Can we move Thursday?"})
    page = signed_in(thread.client).get(response["Location"]).content.decode()
    name = html.escape(thread.therapist.display_name)
    assert f"Sent. {name} replies during their hours; expect a reply by" in page


def test_crisis_language_shows_the_crisis_card_and_the_message_is_delivered(thread):
    response = signed_in(thread.client).post(_url(thread), {"body": "I feel suicidal tonight."})
    page = signed_in(thread.client).get(response["Location"]).content.decode()
    assert 'class="crisis-card"' in page
    assert 'role="alert"' in page
    assert "messages are not for emergencies" in page
    assert Message.objects.count() == 1
    # Without crisis language, no card.
    response = signed_in(thread.client).post(_url(thread), {"body": "See you Thursday."})
    assert (
        'class="crisis-card"'
        not in signed_in(thread.client).get(response["Location"]).content.decode()
    )


def test_html_is_shown_as_text_on_both_sides(thread):
    body = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    signed_in(thread.client).post(_url(thread), {"body": body})
    for page in (
        signed_in(thread.client).get(_url(thread)).content.decode(),
        signed_in(thread.therapist.user).get(_url(thread, "therapist")).content.decode(),
    ):
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
        assert "<img src=x" not in page
        assert '<script>alert("x")' not in page


def test_the_fourth_message_of_the_day_is_refused_with_when_it_resets(thread):
    browser = signed_in(thread.client)
    for number in range(3):
        assert browser.post(_url(thread), {"body": f"Note {number}"}).status_code == 302
    response = browser.post(_url(thread), {"body": "Fourth"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "as many as they accept in a day. You can write again from" in page
    assert Message.objects.count() == 3
    assert "You can send 0 more messages now" in page


@pytest.mark.parametrize(
    ("body", "words"),
    [("", "Write your message first."), ("x" * 2001, "up to 2,000 characters")],
)
def test_a_bad_message_is_refused_at_its_field_and_nothing_is_stored(thread, body, words):
    response = signed_in(thread.client).post(_url(thread), {"body": body})
    assert response.status_code == 400
    page = response.content.decode()
    assert words in page
    assert 'id="id_body-error"' in page
    assert 'aria-invalid="true"' in page
    assert not Message.objects.exists()


def test_a_scheduling_only_therapist_needs_the_box_ticked(thread):
    thread.therapist.between_session_contact = BetweenSessionContact.NONE
    thread.therapist.save(update_fields=["between_session_contact"])
    browser = signed_in(thread.client)
    page = browser.get(_url(thread)).content.decode()
    assert "This is about scheduling" in page
    response = browser.post(_url(thread), {"body": "I had a rough week."})
    assert response.status_code == 400
    assert "accepts messages about scheduling only" in response.content.decode()
    assert not Message.objects.exists()
    response = browser.post(_url(thread), {"body": "Move Thursday?", "about_scheduling": "on"})
    assert response.status_code == 302
    assert Message.objects.get().about_scheduling


def test_someone_elses_thread_is_not_found_and_takes_nothing(thread):
    stranger = make_user(role="client")
    other_client_of_the_therapist = make_engagement_thread(therapist=thread.therapist)
    another_therapist = make_engagement_thread().therapist
    for user, url in (
        (stranger, _url(thread)),
        (another_therapist.user, _url(thread, "therapist")),
        # The therapist's other client, on this thread, from either side's address.
        (other_client_of_the_therapist.client, _url(thread)),
        (other_client_of_the_therapist.client, _url(thread, "therapist")),
    ):
        browser = signed_in(user)
        assert browser.get(url).status_code == 404
        assert browser.post(url, {"body": "Taken over"}).status_code == 404
    assert not Message.objects.exists()


def test_a_closed_engagement_thread_reads_but_takes_no_message(thread):
    services.message_send(
        thread=thread, sender=Sender.CLIENT, body="Thanks for everything.", now=timezone.now()
    )
    engagement = thread.engagement
    assert engagement is not None
    engagement.status = "ended"
    engagement.ended_at = timezone.now()
    engagement.save()
    browser = signed_in(thread.client)
    page = browser.get(_url(thread)).content.decode()
    assert "Thanks for everything." in page
    assert "closed for new messages" in page
    assert browser.post(_url(thread), {"body": "One more"}).status_code == 404
    assert Message.objects.count() == 1


def test_opening_a_thread_from_the_inbox(reference_data):
    engagement = make_engagement(status="ongoing")
    browser = signed_in(engagement.client)
    page = browser.get("/messages/").content.decode()
    assert f"Write to {html.escape(engagement.therapist.display_name)}" in page
    response = browser.post("/messages/open/", {"reason": f"engagement:{engagement.public_id}"})
    thread = Thread.objects.get()
    assert response["Location"] == _url(thread)
    # Someone else's engagement, or nonsense: 404, nothing opened.
    other = make_engagement(status="ongoing")
    for reason in (f"engagement:{other.public_id}", "engagement:nonsense", "x:y"):
        assert browser.post("/messages/open/", {"reason": reason}).status_code == 404
    assert Thread.objects.count() == 1


def test_a_consultation_thread_opens_for_the_client_who_booked(reference_data):
    thread = make_consultation_thread()
    page = signed_in(thread.client).get("/messages/").content.decode()
    assert "Your free consultation" in page
    assert "Open the conversation" in page


def test_unread_counts_without_read_receipts(thread):
    signed_in(thread.client).post(_url(thread), {"body": "Is 3 p.m. fine?"})
    therapist = signed_in(thread.therapist.user)
    assert "1 unread" in therapist.get("/practice/messages/").content.decode()
    therapist.get(_url(thread, "therapist"))  # opening marks it read for the therapist
    assert "unread" not in therapist.get("/practice/messages/").content.decode()
    assert Message.objects.get().read_at is not None
    # The client's page never says whether the therapist read it.
    page = signed_in(thread.client).get(_url(thread)).content.decode().lower()
    for word in ("seen", "read at", "delivered", "typing"):
        assert word not in page
    therapist.post(_url(thread, "therapist"), {"body": "Yes, 3 p.m. works."})
    assert "1 unread" in signed_in(thread.client).get("/messages/").content.decode()


def test_the_therapist_sets_hours_and_cap(thread):
    therapist = signed_in(thread.therapist.user)
    assert therapist.get("/practice/messages/settings/").status_code == 200
    response = therapist.post(
        "/practice/messages/settings/",
        {"days": ["0", "2"], "starts": "10:00", "ends": "09:00", "daily_cap": "5"},
    )
    assert response.status_code == 400
    assert "End your hours after they start" in response.content.decode()
    assert not MessagingSettings.objects.exists()
    response = therapist.post(
        "/practice/messages/settings/",
        {"days": ["0", "2"], "starts": "10:00", "ends": "14:00", "daily_cap": "5"},
    )
    assert response.status_code == 302
    row = MessagingSettings.objects.get()
    assert (row.contact_days, row.daily_cap) == (0b101, 5)
    page = signed_in(thread.client).get(_url(thread)).content.decode()
    assert "Monday and Wednesday, 10:00 a.m. to 2:00 p.m." in page


def test_the_header_shows_messages_only_to_clients_with_somewhere_to_write(thread):
    link = '<a href="/messages/"'
    assert link in signed_in(thread.client).get("/").content.decode()
    assert link not in signed_in(make_user(role="client")).get("/").content.decode()
    # The therapist finds messages in their practice's navigation instead.
    assert link not in signed_in(thread.therapist.user).get("/").content.decode()
    practice = signed_in(thread.therapist.user).get("/practice/messages/").content.decode()
    assert 'href="/practice/messages/" aria-current="page">Messages</a>' in practice


def test_a_long_thread_opens_on_its_newest_messages_with_a_way_to_earlier_ones(thread):
    start = timezone.now() - dt.timedelta(days=200)
    written = Message.objects.bulk_create(
        Message(
            thread=thread,
            sender=Sender.CLIENT if number % 2 else Sender.THERAPIST,
            body=f"Number {number:03d}.",
            created_at=start + dt.timedelta(hours=number),
        )
        for number in range(120)
    )
    size = PAGE_SIZE
    browser = signed_in(thread.client)
    reads = LogEntry.objects.filter(action=LogEntry.Action.ACCESS)
    page = browser.get(_url(thread)).content.decode()
    assert "Number 119." in page
    assert f"Number {120 - size:03d}." in page
    assert f"Number {119 - size:03d}." not in page
    assert reads.count() == size  # only what is shown is recorded as read
    oldest_shown = written[120 - size]
    assert f'href="?before={oldest_shown.public_id}#thread-heading">Earlier messages' in page
    earlier = browser.get(f"{_url(thread)}?before={oldest_shown.public_id}").content.decode()
    assert f"Number {119 - size:03d}." in earlier
    assert f"Number {120 - 2 * size:03d}." in earlier
    assert f"Number {120 - size:03d}." not in earlier
    assert "Newest messages" in earlier
    last = browser.get(f"{_url(thread)}?before={written[5].public_id}").content.decode()
    assert "Number 000." in last
    assert "Number 004." in last
    assert "Earlier messages" not in last
    # Nonsense in the address reads as the newest page.
    assert "Number 119." in browser.get(f"{_url(thread)}?before=nonsense").content.decode()


def test_the_client_picks_the_zone_times_are_shown_in(thread):
    set_hours(thread.therapist, days=tuple(range(7)))
    browser = signed_in(thread.client)
    response = browser.post(f"{_url(thread)}zone/", {"time_zone": "Europe/Paris"})
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.client_time_zone == "Europe/Paris"
    page = browser.get(_url(thread)).content.decode()
    assert " Central European Time (Paris)</li>" in page
    browser.post(f"{_url(thread)}zone/", {"time_zone": "Mars/Olympus"})
    thread.refresh_from_db()
    assert thread.client_time_zone == "Europe/Paris"
    stranger = signed_in(make_user(role="client"))
    assert stranger.post(f"{_url(thread)}zone/", {"time_zone": "UTC"}).status_code == 404


def test_the_therapists_pages_and_api_need_the_second_factor(reference_data):
    from tests.accounts.factories import make_therapist_user
    from tests.directory.factories import make_therapist

    therapist = make_therapist(user=make_therapist_user(mfa=False))
    thread = make_engagement_thread(therapist=therapist)
    browser = signed_in(therapist.user)
    for url in ("/practice/messages/", _url(thread, "therapist"), "/practice/messages/settings/"):
        response = browser.get(url)
        assert response.status_code == 302, url
        assert not response["Location"].startswith("/practice/")
    assert browser.get(f"/api/v1/threads/{thread.public_id}").status_code == 403
