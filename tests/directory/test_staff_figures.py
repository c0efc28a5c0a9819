"""The staff figures page: listings by state, the median time to verification and the booking
facts across therapists, for staff only."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.directory.figures import platform_figures
from rapport.directory.models import TherapistProfile, VerificationDecision, VerificationStatus
from tests.factories import make_therapist, make_user

pytestmark = pytest.mark.django_db

FIGURES = "directory:staff_figures"


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    pass


def text(response) -> str:
    return html.unescape(response.content.decode())


def staff_browser(**who) -> Client:
    client = Client()
    client.force_login(make_user(**{"role": "staff", "mfa": True, **who}))
    return client


def a_platform() -> None:
    """Two live, one of each kind of paused, two pending, one rejected, one suspended."""
    now = timezone.now()
    make_therapist(median_reply_minutes=60, first_session_rate_percent=40)
    make_therapist(median_reply_minutes=180, first_session_rate_percent=80)
    make_therapist(is_listed=False, median_reply_minutes=600)
    make_therapist(accepting_new_clients=False)
    make_therapist(accepting_confirmed_at=now - dt.timedelta(days=45))
    make_therapist(accepting_confirmed_at=None)
    for _ in range(2):
        make_therapist(verification_status=VerificationStatus.PENDING, verification_decided_at=None)
    make_therapist(verification_status=VerificationStatus.REJECTED, verification_reason="No match")
    make_therapist(verification_status=VerificationStatus.SUSPENDED, verification_reason="Lapsed")


def verified_after(days: float, *, reviewer) -> TherapistProfile:
    """A therapist who signed up ``days`` before the first verifying decision (made an hour
    ago)."""
    decided_at = timezone.now() - dt.timedelta(hours=1)
    therapist = make_therapist()
    sent = decided_at - dt.timedelta(days=days)
    TherapistProfile.objects.filter(pk=therapist.pk).update(
        created_at=sent, submitted_for_review_at=sent
    )
    VerificationDecision.objects.create(
        therapist=therapist,
        reviewer=reviewer,
        previous_status=VerificationStatus.PENDING,
        status=VerificationStatus.VERIFIED,
        decided_at=decided_at,
    )
    return therapist


def test_listings_are_counted_by_state_and_why_paused():
    a_platform()

    figures = platform_figures(now=timezone.now())

    assert (figures.pending, figures.live, figures.paused) == (2, 2, 4)
    assert (figures.paused_hidden, figures.paused_not_accepting, figures.paused_unconfirmed) == (
        1,
        1,
        2,
    )
    assert (figures.rejected, figures.suspended) == (1, 1)


def test_medians_are_of_therapists_with_enough_data():
    a_platform()

    figures = platform_figures(now=timezone.now())

    assert (figures.reply_minutes.value, figures.reply_minutes.counted) == (180, 3)
    # An even count: the middle two, averaged.
    assert figures.first_session_rate_percent.value == 60
    assert figures.first_session_rate_percent.counted == 2


def test_median_time_to_verification_counts_each_therapists_first_verification():
    reviewer = make_user(role="staff")
    verified_after(2, reviewer=reviewer)
    verified_after(4, reviewer=reviewer)
    later = verified_after(10, reviewer=reviewer)
    # Re-verified after a suspension: not a second sign-up.
    VerificationDecision.objects.create(
        therapist=later,
        reviewer=reviewer,
        previous_status=VerificationStatus.PENDING,
        status=VerificationStatus.VERIFIED,
        decided_at=timezone.now(),
    )
    # Outside the window: last year's pace says little about today's.
    old = verified_after(90, reviewer=reviewer)
    VerificationDecision.objects.filter(therapist=old).update(
        decided_at=timezone.now() - dt.timedelta(days=400)
    )

    figures = platform_figures(now=timezone.now())

    assert figures.days_to_verification.counted == 3
    assert figures.days_to_verification.value == pytest.approx(4, abs=0.01)


def test_an_empty_platform_says_there_is_nothing_to_measure():
    page = text(staff_browser().get(reverse(FIGURES)))

    assert "Nobody was verified in the last 180 days." in page
    assert "No therapist has enough requests to measure yet." in page
    assert "No therapist has enough held consultations to measure yet." in page


def test_the_page_shows_the_figures_in_words():
    a_platform()

    page = text(staff_browser().get(reverse(FIGURES)))

    assert "<dt>Pending licence review</dt>\n    <dd>2" in page
    assert "<dd>2</dd>" in page  # live
    assert "hidden by the therapist: 1" in page
    assert "not accepting new clients: 1" in page
    assert '"accepting" not confirmed in the last 30 days: 2' in page
    assert "180 minutes: the typical therapist's own median time" in page
    assert "over 3 therapists with enough requests" in page
    assert "60%: the typical therapist's share" in page


def test_a_licence_reviewer_gets_a_link_to_the_queue_from_the_pending_count():
    a_platform()
    browser = staff_browser(permissions=("directory.review_licences",))

    page = text(browser.get(reverse(FIGURES)))

    assert f'<a href="{reverse("directory:verification_queue")}">review them</a>' in page


def test_the_page_costs_the_same_queries_however_many_therapists(django_assert_max_num_queries):
    browser = staff_browser()
    a_platform()
    browser.get(reverse(FIGURES))
    with django_assert_max_num_queries(30) as few:
        browser.get(reverse(FIGURES))
    a_platform()
    a_platform()

    with django_assert_max_num_queries(len(few.captured_queries)):
        browser.get(reverse(FIGURES))


@pytest.mark.parametrize(
    "who",
    [
        {"role": "client"},
        {"role": "therapist", "mfa": True},
        {"role": "client", "mfa": True, "is_active": False, "is_staff": True},
    ],
    ids=["client", "therapist", "inactive-staff"],
)
def test_the_page_is_not_found_for_anyone_but_staff(who):
    client = Client()
    client.force_login(make_user(**who))

    assert client.get(reverse(FIGURES)).status_code == 404


def test_signed_out_visitors_get_the_same_404(client):
    assert client.get(reverse(FIGURES)).status_code == 404


def test_staff_without_a_second_factor_are_sent_to_set_one_up():
    client = Client()
    client.force_login(make_user(role="staff"))

    response = client.get(reverse(FIGURES))

    assert response["Location"] == reverse("mfa_activate_totp")


def test_a_licence_reviewer_with_a_client_role_counts_as_staff():
    client = Client()
    client.force_login(
        make_user(role="client", mfa=True, permissions=("directory.review_licences",))
    )

    assert client.get(reverse(FIGURES)).status_code == 200


def test_the_wait_for_verification_starts_when_the_profile_was_sent_for_review():
    reviewer = make_user(role="staff")
    therapist = verified_after(30, reviewer=reviewer)
    decided_at = VerificationDecision.objects.get(therapist=therapist).decided_at
    TherapistProfile.objects.filter(pk=therapist.pk).update(
        submitted_for_review_at=decided_at - dt.timedelta(days=3)
    )

    figures = platform_figures(now=timezone.now())

    assert figures.days_to_verification.value == pytest.approx(3, abs=0.01)


def test_staff_pages_say_how_long_they_took():
    response = staff_browser().get(reverse(FIGURES))

    assert response["Server-Timing"].startswith("app;dur=")


def test_the_staff_navigation_offers_only_the_pages_the_person_may_open():
    reviewer = staff_browser(permissions=("directory.review_licences",))
    importer = staff_browser(permissions=("directory.add_therapistprofile",))

    reviewer_nav = text(reviewer.get(reverse(FIGURES))).split('aria-label="Staff"', 1)[1]
    importer_nav = text(importer.get(reverse(FIGURES))).split('aria-label="Staff"', 1)[1]

    queue = f'<a href="{reverse("directory:verification_queue")}"'
    imports = f'<a href="{reverse("directory:therapist_import")}"'
    assert queue in reviewer_nav.split("</nav>")[0]
    assert imports not in reviewer_nav.split("</nav>")[0]
    assert imports in importer_nav.split("</nav>")[0]
    assert queue not in importer_nav.split("</nav>")[0]


def test_drafts_are_counted_apart_from_listings_waiting_for_review():
    make_therapist(verification_status=VerificationStatus.PENDING, verification_decided_at=None)
    for _ in range(2):
        make_therapist(
            verification_status=VerificationStatus.PENDING,
            verification_decided_at=None,
            submitted_for_review_at=None,
        )

    figures = platform_figures(now=timezone.now())

    assert (figures.pending, figures.drafts) == (1, 2)
