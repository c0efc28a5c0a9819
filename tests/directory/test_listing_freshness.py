"""Re-confirming "accepting new clients": the warning before a listing pauses, the notice when
it pauses, each once per cycle, and a fresh cycle after re-confirming."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rapport.directory.models import SearchIndexVersion, TherapistProfile
from rapport.directory.selectors import therapist_listing
from rapport.directory.services import stale_listings_warn, therapist_accepting_confirm
from tests.factories import make_therapist, make_therapist_with_account

CONFIRMED_AT = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def therapist(reference_data: None, settings) -> TherapistProfile:
    settings.LISTING_FRESHNESS_DAYS = 30
    settings.LISTING_WARNING_DAYS_BEFORE = 3
    return make_therapist_with_account(
        display_name="Ada Okafor", email="ada@example.org", accepting_confirmed_at=CONFIRMED_AT
    )


def warn(now: dt.datetime, capture) -> int:
    with capture(execute=True):
        return stale_listings_warn(now=now)


PAUSES_AT = CONFIRMED_AT + dt.timedelta(days=30)
WARNING_FROM = PAUSES_AT - dt.timedelta(days=3)


@pytest.mark.django_db
def test_no_e_mail_while_the_listing_is_fresh(
    therapist, mailoutbox, django_capture_on_commit_callbacks
):
    assert warn(WARNING_FROM - dt.timedelta(seconds=1), django_capture_on_commit_callbacks) == 0
    assert mailoutbox == []


@pytest.mark.django_db
def test_the_warning_is_sent_once_days_before_the_pause(
    therapist, mailoutbox, django_capture_on_commit_callbacks
):
    assert warn(WARNING_FROM, django_capture_on_commit_callbacks) == 1
    assert warn(WARNING_FROM + dt.timedelta(days=1), django_capture_on_commit_callbacks) == 0

    [message] = mailoutbox
    assert message.to == ["ada@example.org"]
    assert message.subject == (
        "[Rapport] Your listing pauses soon: are you still accepting new clients?"
    )
    # 1 April 2026 15:00 UTC is 11:00 in Toronto (EDT).
    assert "Wednesday, April 1, 2026 at 11:00 a.m. Eastern Time (Toronto)" in message.body
    assert "/practice/" in message.body
    therapist.refresh_from_db()
    assert therapist.accepting_warning_sent_at == WARNING_FROM
    assert therapist.listing_paused_notice_sent_at is None


@pytest.mark.django_db
def test_the_paused_notice_is_sent_once_when_the_listing_pauses(
    therapist, mailoutbox, django_capture_on_commit_callbacks
):
    warn(WARNING_FROM, django_capture_on_commit_callbacks)
    # Still listed at the last moment, hidden from the pause on (the directory's own rule).
    assert therapist_listing(now=PAUSES_AT).filter(pk=therapist.pk).exists()
    paused_at = PAUSES_AT + dt.timedelta(seconds=1)
    assert not therapist_listing(now=paused_at).filter(pk=therapist.pk).exists()

    assert warn(PAUSES_AT, django_capture_on_commit_callbacks) == 0
    assert warn(paused_at, django_capture_on_commit_callbacks) == 1
    assert warn(paused_at + dt.timedelta(days=5), django_capture_on_commit_callbacks) == 0

    subjects = [message.subject for message in mailoutbox]
    assert subjects == [
        "[Rapport] Your listing pauses soon: are you still accepting new clients?",
        "[Rapport] Your listing is paused until you confirm you are accepting new clients",
    ]
    assert "is paused" in mailoutbox[1].body
    assert "/practice/" in mailoutbox[1].body
    therapist.refresh_from_db()
    assert therapist.listing_paused_notice_sent_at == paused_at


@pytest.mark.django_db
def test_a_listing_that_paused_unwarned_gets_only_the_paused_notice(
    therapist, mailoutbox, django_capture_on_commit_callbacks
):
    assert warn(PAUSES_AT + dt.timedelta(days=2), django_capture_on_commit_callbacks) == 1

    [message] = mailoutbox
    assert "is paused" in message.subject


@pytest.mark.django_db
def test_re_confirming_starts_a_new_cycle(
    therapist, mailoutbox, django_capture_on_commit_callbacks
):
    warn(WARNING_FROM, django_capture_on_commit_callbacks)
    warn(PAUSES_AT + dt.timedelta(hours=1), django_capture_on_commit_callbacks)
    version = SearchIndexVersion.objects.get().version
    reconfirmed_at = PAUSES_AT + dt.timedelta(days=1)

    therapist_accepting_confirm(therapist=therapist, accepting=True, now=reconfirmed_at)

    assert therapist.accepting_new_clients is True
    assert therapist.accepting_confirmed_at == reconfirmed_at
    assert therapist.accepting_warning_sent_at is None
    assert therapist.listing_paused_notice_sent_at is None
    assert SearchIndexVersion.objects.get().version == version + 1
    assert therapist_listing(now=reconfirmed_at).filter(pk=therapist.pk).exists()
    next_warning = reconfirmed_at + dt.timedelta(days=27)
    assert warn(next_warning - dt.timedelta(minutes=1), django_capture_on_commit_callbacks) == 0
    assert warn(next_warning, django_capture_on_commit_callbacks) == 1
    assert len(mailoutbox) == 3


@pytest.mark.django_db
def test_re_confirming_after_the_warning_cancels_it_before_it_is_sent(
    therapist, mailoutbox, django_capture_on_commit_callbacks
):
    # The warning is queued, but the therapist re-confirms before the worker sends it.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        stale_listings_warn(now=WARNING_FROM)
    therapist_accepting_confirm(therapist=therapist, accepting=True, now=WARNING_FROM)
    for callback in callbacks:
        callback()

    assert mailoutbox == []


@pytest.mark.django_db
def test_saying_not_accepting_is_also_a_confirmation(therapist):
    therapist_accepting_confirm(therapist=therapist, accepting=False, now=PAUSES_AT)

    assert therapist.accepting_new_clients is False
    assert therapist.accepting_confirmed_at == PAUSES_AT
    assert not therapist_listing(now=PAUSES_AT).filter(pk=therapist.pk).exists()


@pytest.mark.django_db
def test_only_live_listings_with_an_account_are_e_mailed(
    therapist, mailoutbox, django_capture_on_commit_callbacks
):
    TherapistProfile.objects.filter(pk=therapist.pk).update(is_listed=False)
    make_therapist(user=None, accepting_confirmed_at=CONFIRMED_AT)
    make_therapist_with_account(accepting_new_clients=False, accepting_confirmed_at=CONFIRMED_AT)
    make_therapist_with_account(accepting_confirmed_at=None)

    assert warn(WARNING_FROM, django_capture_on_commit_callbacks) == 0
    assert warn(PAUSES_AT + dt.timedelta(days=1), django_capture_on_commit_callbacks) == 0
    assert mailoutbox == []


@pytest.mark.django_db
def test_defaults_to_the_current_time(therapist, mailoutbox, django_capture_on_commit_callbacks):
    TherapistProfile.objects.filter(pk=therapist.pk).update(
        accepting_confirmed_at=timezone.now() - dt.timedelta(days=28)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert stale_listings_warn() == 1
    assert len(mailoutbox) == 1
