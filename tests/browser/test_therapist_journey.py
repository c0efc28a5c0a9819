"""A new therapist's whole way in, in a real browser, at a phone's width and a desktop's:
sign up as a therapist, confirm the e-mail address from the message sent, sign in, set up the
second factor, then every onboarding step to a profile sent for review.

Every page on the way is checked with axe-core (shipped by the axe-playwright-python package):
no serious or critical violation; and every visible control has a label.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache as django_cache
from PIL import Image

from rapport.directory.models import TherapistProfile
from tests.accounts.signin_helpers import totp_code
from tests.browser.conftest import Tab
from tests.factories import load_reference_data

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "a calm river under autumn light"
EMAIL = "rae.morgan@example.org"
BIO = (
    "I work with adults who feel stuck after a loss or a big change: a move, a breakup, a new "
    "diagnosis. Sessions are a conversation; I ask a lot of questions and we go at your pace."
)

UNLABELLED_CONTROLS = """
() => Array.from(document.querySelectorAll("input, select, textarea"))
  .filter((control) => control.type !== "hidden" && control.offsetParent !== null)
  .filter((control) => control.labels.length === 0 && !control.getAttribute("aria-label"))
  .map((control) => control.name || control.id)
"""

# axe's own impact levels; "serious" and "critical" block a person from the page.
SERIOUS_VIOLATIONS = """
async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => {
      const where = violation.nodes.map((node) => node.target.join(" ")).join(", ");
      return `${violation.id}: ${where}`;
    });
}
"""


@cache
def axe_source() -> str:
    return resources.files("axe_playwright_python").joinpath("axe.min.js").read_text()


def check_page(tab: Tab, checked: list[str]) -> None:
    """axe and the label check on the page now shown (evaluated through the browser's
    debugging protocol, which the page's Content-Security-Policy does not apply to)."""
    page = tab.page
    page.evaluate(axe_source())
    where = page.url
    assert page.evaluate(SERIOUS_VIOLATIONS) == [], where
    assert page.evaluate(UNLABELLED_CONTROLS) == [], where
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), where
    checked.append(where.removeprefix(tab.traffic.origin))


def submit(tab: Tab, label: str) -> None:
    tab.page.get_by_role("button", name=label).first.click()
    tab.page.wait_for_load_state("load")


@pytest.fixture
def reference_data_loaded() -> None:
    load_reference_data()
    # allauth keeps its rate limits (one confirmation mail per address every few minutes) in
    # the cache, which outlives a test.
    django_cache.clear()


@pytest.mark.usefixtures("reference_data_loaded")
@pytest.mark.parametrize("width", [375, 1280])
def test_a_therapist_signs_up_and_sends_a_complete_profile_for_review(
    tab: Tab, width: int, tmp_path: Path, settings: Any
):
    page = tab.page
    page.set_viewport_size({"width": width, "height": 900})
    page.set_default_timeout(10_000)
    checked: list[str] = []

    # Sign up as a therapist.
    tab.visit("/accounts/signup/", until="load")
    check_page(tab, checked)
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_label("I am a therapist and want to list my practice").check()
    page.locator("input[name=consent]").check()
    submit(tab, "Create account")

    # Confirm the address from the message (the live server shares this process's outbox).
    body = str(mail.outbox[-1].body)
    confirm = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", body)
    assert confirm, body
    tab.visit(confirm.group(1), until="load")
    check_page(tab, checked)
    submit(tab, "Confirm")

    # Sign in: a therapist is sent to their profile, which first asks for the second factor.
    tab.visit("/accounts/login/", until="load")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    submit(tab, "Sign in")
    if "/reauthenticate/" in page.url:
        page.get_by_label("Password").fill(PASSWORD)
        submit(tab, "Confirm")
    assert "/accounts/2fa/totp/activate/" in page.url, page.url
    check_page(tab, checked)
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    submit(tab, "Activate")
    # Straight on to where they were going, with the recovery codes one link away.
    assert page.url.endswith("/practice/profile/start/"), page.url
    assert page.get_by_role("link", name=re.compile("recovery codes", re.I)).count() >= 1

    # Start the listing, then each step in order.
    check_page(tab, checked)
    page.get_by_label("Your name, as clients will see it").fill("Rae Morgan")
    page.get_by_label("Your professional title").select_option(
        label="RP — Registered Psychotherapist"
    )
    page.get_by_label("Province or state where you practise").select_option("CA-ON")
    submit(tab, "Start")

    assert page.url.endswith("/practice/profile/about/"), page.url
    check_page(tab, checked)
    # Submitting with the bio missing keeps what was typed and says what is missing.
    page.get_by_label("Headline").fill("Helping adults through grief and big changes")
    submit(tab, "Save and continue")
    assert page.get_by_label("Headline").input_value().startswith("Helping adults")
    assert "Tell clients about yourself" in page.locator("#id_about-error").inner_text()
    check_page(tab, checked)
    # Photos go to the videos' private storage: this test's own folder.
    settings.STORAGES = {
        **settings.STORAGES,
        "videos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    photo = tmp_path / "me.jpg"
    Image.new("RGB", (900, 700), (190, 110, 60)).save(photo, format="JPEG")
    page.get_by_label("Photo (optional)").set_input_files(str(photo))
    page.get_by_label("About you").fill(BIO)
    page.get_by_label("What a first session with me looks like").fill(
        "We talk about what brings you, and what you hope will change."
    )
    submit(tab, "Save and continue")

    assert page.url.endswith("/practice/profile/licence/"), page.url
    check_page(tab, checked)
    page.get_by_label("Province or state of the licence").select_option("CA-ON")
    page.get_by_label("Regulator (college or board)").select_option(
        label="College of Registered Psychotherapists of Ontario (CRPO)"
    )
    page.get_by_label("Title the licence gives you").select_option(
        label="RP — Registered Psychotherapist"
    )
    page.get_by_label("Licence or registration number").fill("12345")
    page.get_by_label("Year you began practising").fill("2015")
    submit(tab, "Save and continue")

    assert page.url.endswith("/practice/profile/topics/"), page.url
    check_page(tab, checked)
    for label in (
        "Grief and loss",
        "Cognitive behavioural therapy (CBT)",
        "Individuals (adults)",
        "English",
    ):
        page.get_by_label(label, exact=True).check()
    submit(tab, "Save and continue")

    assert page.url.endswith("/practice/profile/style/"), page.url
    check_page(tab, checked)
    page.get_by_label("Closer to structured").check()
    submit(tab, "Save and continue")

    assert page.url.endswith("/practice/profile/fees/"), page.url
    check_page(tab, checked)
    page.get_by_label("Fee per session").fill("140.00")
    submit(tab, "Save and continue")

    assert page.url.endswith("/practice/profile/where/"), page.url
    check_page(tab, checked)
    page.get_by_label("Street address").fill("100 Queen St W")
    page.get_by_label("City or town").fill("Toronto")
    page.get_by_label("Province or state", exact=True).select_option("CA-ON")
    page.get_by_label("Postal or ZIP code").fill("M5H 2N2")
    submit(tab, "Add this office")
    assert "100 Queen St W" in page.content()
    check_page(tab, checked)
    page.get_by_label("Video").check()
    submit(tab, "Save and continue")

    assert page.url.endswith("/practice/profile/contact/"), page.url
    check_page(tab, checked)
    submit(tab, "Save and continue")

    for step in ("availability", "videos"):
        assert page.url.endswith(f"/practice/profile/{step}/"), page.url
        check_page(tab, checked)
        submit(tab, "Continue")

    assert page.url.endswith("/practice/profile/preview/"), page.url
    assert "Helping adults through grief" in page.content()
    # The photo shows, through the photo view, to its own therapist.
    assert page.evaluate(
        "Array.from(document.images).some((i) => i.src.includes('/photo.jpg') && i.naturalWidth)"
    )
    check_page(tab, checked)
    submit(tab, "It looks right: continue")

    assert page.url.endswith("/practice/profile/submit/"), page.url
    check_page(tab, checked)
    submit(tab, "Send my profile for review")

    assert page.url.endswith("/practice/profile/"), page.url
    assert "Your licence is being checked" in page.content()
    check_page(tab, checked)

    therapist = TherapistProfile.objects.get(user__email=EMAIL)
    assert therapist.submitted_for_review_at is not None
    assert therapist.verification_status == "pending"
    assert tab.traffic.page_errors == []
    assert len(checked) >= 17


def test_the_axe_check_finds_a_serious_violation_when_there_is_one(tab: Tab):
    """The check above can fail: a form control without a label is a critical violation."""
    tab.page.set_content("<!doctype html><html lang=en><title>t</title><main><input></main>")
    tab.page.evaluate(axe_source())
    assert any(found.startswith("label:") for found in tab.page.evaluate(SERIOUS_VIOLATIONS))
