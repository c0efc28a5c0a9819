"""The licence queue for reviewers: a link to each licence's public register, and what changed
in the licences (and the title beside the name) since the last decision."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.directory.licence_review import licence_changes
from rapport.directory.models import (
    Designation,
    Licence,
    Regulator,
    TherapistProfile,
    VerificationDecision,
    VerificationStatus,
)
from rapport.directory.services import therapist_verification_decide
from tests.factories import make_licence, make_therapist, make_user

pytestmark = pytest.mark.django_db

REVIEW = ("directory.review_licences",)
REGISTER = "https://register.example.org/find"


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    Regulator.objects.filter(jurisdiction_id="CA-ON", abbreviation="CRPO").update(
        register_url=REGISTER
    )


@pytest.fixture
def reviewer():
    return make_user(role="staff", mfa=True, permissions=REVIEW)


@pytest.fixture
def browser(reviewer) -> Client:
    client = Client()
    client.force_login(reviewer)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def pending_therapist(name: str) -> TherapistProfile:
    return make_therapist(
        display_name=name,
        verification_status=VerificationStatus.PENDING,
        verification_decided_at=None,
    )


def decided_then_back_in_review(therapist: TherapistProfile, reviewer) -> VerificationDecision:
    """Verified, then sent back to review (as a licence edit does), keeping the decision."""
    decision = therapist_verification_decide(
        therapist=therapist, reviewer=reviewer, status="verified", reason=""
    )
    TherapistProfile.objects.filter(pk=therapist.pk).update(
        verification_status=VerificationStatus.PENDING
    )
    return decision


def queue_row(page: str, name: str) -> str:
    return page.split(name, 1)[1].split("</tr>", 1)[0]


# --- the register link -------------------------------------------------------------------------


def test_each_licence_links_to_its_regulators_public_register(browser):
    pending_therapist("Reg Link")

    page = text(browser.get(reverse("directory:verification_queue")))

    row = queue_row(page, "Reg Link")
    assert f'<a href="{REGISTER}" target="_blank" rel="noopener noreferrer">' in row
    assert "check CRPO's public register" in row
    assert "(opens in a new tab)" in row


def test_a_regulator_without_a_register_says_so_instead_of_a_dead_link(browser):
    Regulator.objects.update(register_url="")
    pending_therapist("No Register")

    row = queue_row(text(browser.get(reverse("directory:verification_queue"))), "No Register")

    assert '<a href="https' not in row
    assert "no register link is recorded for CRPO" in row


def test_the_decision_page_links_the_register_too(browser):
    therapist = pending_therapist("Detail Link")

    page = text(browser.get(reverse("directory:verification_detail", args=[therapist.public_id])))

    assert f'<a href="{REGISTER}" target="_blank" rel="noopener noreferrer">' in page


# --- changed since the last decision -----------------------------------------------------------


def test_a_therapist_never_decided_on_is_marked_never_reviewed(browser):
    therapist = pending_therapist("First Timer")

    queue = text(browser.get(reverse("directory:verification_queue")))
    detail = text(browser.get(reverse("directory:verification_detail", args=[therapist.public_id])))

    assert "Never reviewed" in queue_row(queue, "First Timer")
    assert "No decision yet: check every licence above." in detail


def test_nothing_changed_says_so(browser, reviewer):
    therapist = pending_therapist("Same Same")
    decided_then_back_in_review(therapist, reviewer)

    queue = text(browser.get(reverse("directory:verification_queue")))
    detail = text(browser.get(reverse("directory:verification_detail", args=[therapist.public_id])))

    assert "No change since the last decision" in queue_row(queue, "Same Same")
    assert "Nothing: the licences and the title are as they were" in detail


def test_added_removed_and_changed_licences_are_listed(browser, reviewer):
    therapist = pending_therapist("Many Changes")
    make_licence(therapist, jurisdiction_id="CA-BC", regulator="BCACC", designation_code="RCC")
    decided_then_back_in_review(therapist, reviewer)
    ontario = therapist.licences.get(jurisdiction_id="CA-ON")
    Licence.objects.filter(pk=ontario.pk).update(number="99999", expires_on=dt.date(2030, 1, 31))
    therapist.licences.filter(jurisdiction_id="CA-BC").delete()
    make_licence(therapist, jurisdiction_id="CA-NS", regulator="NSCCT", designation_code="CCT")

    queue = text(browser.get(reverse("directory:verification_queue")))
    detail = text(browser.get(reverse("directory:verification_detail", args=[therapist.public_id])))

    row = queue_row(queue, "Many Changes")
    assert "<strong>3 changes since the last decision</strong>" in row
    old_number = f"{ontario.number}"
    expected = [
        "Removed: RCC in CA-BC, number",
        "Added: CCT in CA-NS, number 12345 with",
        f"Changed: RP in CA-ON: number {old_number} → 99999; expiry none → 2030-01-31.",
    ]
    for line in expected:
        assert line in row
        assert line in detail


def test_a_new_title_on_the_same_licence_is_one_change_and_the_name_title_is_checked(
    browser, reviewer
):
    therapist = pending_therapist("Title Change")
    decided_then_back_in_review(therapist, reviewer)
    rsw = Designation.objects.get(code="RSW")
    licence = therapist.licences.get()
    Licence.objects.filter(pk=licence.pk).update(designation=rsw)
    TherapistProfile.objects.filter(pk=therapist.pk).update(designation=rsw)

    detail = text(browser.get(reverse("directory:verification_detail", args=[therapist.public_id])))

    assert "Changed: RSW in CA-ON: title RP → RSW." in detail
    assert (
        "The title beside the name is now RSW, which no licence seen at the last decision" in detail
    )
    assert "Added:" not in detail
    assert "Removed:" not in detail


def test_changes_compare_with_the_newest_decision_only(browser, reviewer):
    therapist = pending_therapist("Two Decisions")
    decided_then_back_in_review(therapist, reviewer)
    Licence.objects.filter(therapist=therapist).update(number="55555")
    # A newer decision saw the new number: nothing has changed since that one.
    therapist_verification_decide(
        therapist=therapist, reviewer=reviewer, status="verified", reason=""
    )
    TherapistProfile.objects.filter(pk=therapist.pk).update(
        verification_status=VerificationStatus.PENDING
    )

    queue = text(browser.get(reverse("directory:verification_queue")))

    assert "No change since the last decision" in queue_row(queue, "Two Decisions")


def test_the_queue_reads_a_fixed_number_of_queries_however_many_therapists(
    browser, reviewer, django_assert_max_num_queries
):
    for index in range(2):
        decided_then_back_in_review(pending_therapist(f"Few {index}"), reviewer)
    browser.get(reverse("directory:verification_queue"))
    with django_assert_max_num_queries(30) as few:
        browser.get(reverse("directory:verification_queue"))
    for index in range(12):
        therapist = pending_therapist(f"More {index}")
        make_licence(therapist, jurisdiction_id="CA-BC", regulator="BCACC", designation_code="RCC")
        decided_then_back_in_review(therapist, reviewer)

    with django_assert_max_num_queries(len(few.captured_queries)):
        page = text(browser.get(reverse("directory:verification_queue")))

    assert page.count("No change since the last decision") == 14


def test_licence_changes_of_an_empty_history_are_all_additions():
    current = [
        {"jurisdiction": "CA-ON", "designation": "RP", "regulator": "CRPO", "number": "1"},
    ]

    [change] = licence_changes(reviewed=[], current=current)

    assert (change.kind, change.sentence) == ("added", "Added: RP in CA-ON, number 1 with CRPO.")


# --- who may see it ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who",
    [{"role": "client"}, {"role": "therapist", "mfa": True}, {"role": "staff", "mfa": True}],
    ids=["client", "therapist", "staff-without-permission"],
)
def test_the_queue_is_not_found_for_anyone_but_reviewers(who):
    pending_therapist("Hidden Person")
    client = Client()
    client.force_login(make_user(**who))

    response = client.get(reverse("directory:verification_queue"))

    assert response.status_code == 404
    assert "Hidden Person" not in text(response)


def test_a_reviewer_without_a_second_factor_is_sent_to_set_one_up():
    client = Client()
    client.force_login(make_user(role="staff", permissions=REVIEW))

    response = client.get(reverse("directory:verification_queue"))

    assert response["Location"] == reverse("mfa_activate_totp")


def test_timezone_is_utc_for_decision_times(browser, reviewer):
    therapist = pending_therapist("Utc Times")
    decision = decided_then_back_in_review(therapist, reviewer)

    detail = text(browser.get(reverse("directory:verification_detail", args=[therapist.public_id])))

    # The decision's moment in the site's words, in UTC (staff pages have no zone of their own).
    at = timezone.localtime(decision.decided_at, dt.UTC)
    hour = at.hour % 12 or 12
    clock = f"{hour}:{at:%M} {'a.m.' if at.hour < 12 else 'p.m.'}"
    assert f"decision of {at:%A}, {at:%B} {at.day}, {at.year} at {clock} UTC" in detail


def test_a_return_to_review_is_not_the_decision_changes_are_compared_with(browser, reviewer):
    therapist = pending_therapist("Back Again")
    decided_then_back_in_review(therapist, reviewer)
    Licence.objects.filter(therapist=therapist).update(number="424242")
    # What a licence edit records when it sends the listing back: the new details, no reviewer.
    VerificationDecision.objects.create(
        therapist=therapist,
        reviewer=None,
        previous_status=VerificationStatus.VERIFIED,
        status=VerificationStatus.PENDING,
        reason="The therapist changed their licence details.",
        decided_at=timezone.now(),
        licences_reviewed=[
            {
                "jurisdiction": "CA-ON",
                "designation": "RP",
                "regulator": "College of Registered Psychotherapists of Ontario",
                "number": "424242",
                "expires_on": None,
            }
        ],
    )

    queue = text(browser.get(reverse("directory:verification_queue")))
    detail = text(browser.get(reverse("directory:verification_detail", args=[therapist.public_id])))

    assert "1 change since the last decision" in queue_row(queue, "Back Again")
    assert "→ 424242" in detail


def test_the_shipped_reference_data_links_the_main_canadian_regulators():
    # The reference data as shipped (loaded once per test session): every Canadian regulator a
    # link is kept for is reached over https, and the big provinces' ones have one.
    linked = dict(
        Regulator.objects.exclude(register_url="").values_list("abbreviation", "register_url")
    )
    for abbreviation in ("CRPO", "OCSWSSW", "CPBAO", "OPQ", "BCACC", "CAP"):
        assert linked[abbreviation].startswith("https://"), abbreviation
    assert all(url.startswith("https://") for url in linked.values())
