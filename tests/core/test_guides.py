"""The guidance pages (rapport.core.guides): every registered guide renders as written, links
only to pages that exist, and is linked from the places where it helps (the home and search
pages, the therapist's profile, the consultation's confirmation page and e-mails).

Expected addresses are written out as literal paths, not reversed, so a renamed route or slug
fails here instead of quietly following along.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone

from rapport.booking import outbox, tokens
from rapport.booking.models import Appointment, AppointmentKind, AppointmentStatus, Party
from rapport.booking.views.common import slot_key
from rapport.core.guides import GUIDES, guide_for
from rapport.directory.models import TherapistProfile
from tests.accounts.factories import make_therapist_user
from tests.booking.factories import make_bookable_therapist, make_maya_appointment
from tests.booking.helpers import free_times_ahead
from tests.core.test_headers import response_problems
from tests.factories import make_therapist, make_therapist_with_account

GUIDE_TEMPLATES = Path(__file__).resolve().parents[2] / "rapport/core/templates/core/guides"
SITE = "https://rapport.example"

FIT = "/guide/why-fit-matters/"
CONSULTATION = "/guide/free-consultation/"
FEEDBACK = "/guide/giving-feedback/"
CONTACT = "/guide/contact-between-sessions/"
GRADUATING = "/guide/graduating/"


class _Page(HTMLParser):
    """What a test needs from a page: its h1 texts, h2/h3 texts, every link, and the words of
    the guide's own text (the first element with class "prose", without the site's header,
    footer and related-guides list)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.h1: list[str] = []
        self.headings: list[str] = []
        self.hrefs: list[str] = []
        self.prose_words: list[str] = []
        self._heading: str | None = None
        self._text = ""
        self._prose_depth = 0  # open <div>s since the prose one began; 0 when outside it
        self._prose_done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.hrefs.append(attributes["href"] or "")
        if tag in ("h1", "h2", "h3"):
            self._heading, self._text = tag, ""
        if tag == "div":
            if self._prose_depth:
                self._prose_depth += 1
            elif not self._prose_done and "prose" in (attributes.get("class") or "").split():
                self._prose_depth = 1

    def handle_endtag(self, tag: str) -> None:
        if tag == self._heading:
            text = " ".join(self._text.split())
            (self.h1 if tag == "h1" else self.headings).append(text)
            self._heading = None
        if tag == "div" and self._prose_depth:
            self._prose_depth -= 1
            self._prose_done = self._prose_depth == 0

    def handle_data(self, data: str) -> None:
        if self._heading:
            self._text += data
        if self._prose_depth:
            self.prose_words += data.split()


def parse(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


# --- the registry ----------------------------------------------------------------------------


def test_the_registry_has_unique_slugs_and_related_guides_that_exist():
    slugs = [guide.slug for guide in GUIDES]
    assert len(slugs) == len(set(slugs))
    for guide in GUIDES:
        assert guide.related, guide.slug
        assert guide.slug not in guide.related
        assert all(guide_for(slug) is not None for slug in guide.related)
    assert guide_for("no-such-guide") is None


def test_every_guide_template_is_registered_and_every_registered_guide_has_one():
    written = {path.stem for path in GUIDE_TEMPLATES.glob("*.html")} - {"index", "_guide"}
    assert written == {guide.slug for guide in GUIDES}


def test_the_five_guides_the_issue_asks_for_are_there():
    assert {guide.slug for guide in GUIDES} == {
        path.strip("/").removeprefix("guide/")
        for path in (FIT, CONSULTATION, FEEDBACK, CONTACT, GRADUATING)
    }


GUIDE_LINK = re.compile(r"""\{%\s*url\s+['"]guide['"]\s+['"]([^'"]+)['"]""")


def test_every_template_in_the_project_links_only_registered_guides():
    """A link to a misspelt slug would still reverse (the converter takes any slug) and only
    404 when someone clicks it; this reads every template, those of apps written later too."""
    root = Path(__file__).resolve().parents[2] / "rapport"
    named = {
        (str(template.relative_to(root)), slug)
        for template in [*root.rglob("*.html"), *root.rglob("*.txt")]
        for slug in GUIDE_LINK.findall(template.read_text())
    }
    assert named, "no template links a guide"
    assert [pair for pair in sorted(named) if guide_for(pair[1]) is None] == []


# --- each guide page -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("guide", GUIDES, ids=lambda guide: guide.slug)
def test_a_guide_renders_with_its_title_as_the_only_h1(client, guide):
    response = client.get(f"/guide/{guide.slug}/")

    assert response.status_code == 200
    page = parse(response)
    assert page.h1 == [guide.title]
    assert f"<title>{html.escape(guide.title)} · Rapport guides</title>" in (
        response.content.decode()
    )
    assert response_problems(response, expect_no_store=False) == []


@pytest.mark.django_db
@pytest.mark.parametrize("guide", GUIDES, ids=lambda guide: guide.slug)
def test_a_guide_is_300_to_700_words_under_several_headings(client, guide):
    page = parse(client.get(f"/guide/{guide.slug}/"))

    assert 300 <= len(page.prose_words) <= 700, len(page.prose_words)
    # Its own sections (h2), plus the related-guides heading the frame adds.
    assert len(page.headings) >= 4
    assert page.headings[-1] == "Related guides"


@pytest.mark.django_db
@pytest.mark.parametrize("guide", GUIDES, ids=lambda guide: guide.slug)
def test_every_internal_link_on_a_guide_resolves_and_guide_links_open(client, guide):
    page = parse(client.get(f"/guide/{guide.slug}/"))

    internal = [href for href in page.hrefs if href.startswith("/")]
    assert internal
    for href in internal:
        path = urlsplit(href).path
        try:
            match = resolve(path)
        except Resolver404:
            pytest.fail(f"{guide.slug} links to {href}, which no page answers")
        if match.url_name in ("guide", "guides"):
            # The slug converter accepts any slug, so only opening it proves the guide exists.
            assert client.get(path).status_code == 200, href


@pytest.mark.django_db
@pytest.mark.parametrize("guide", GUIDES, ids=lambda guide: guide.slug)
def test_a_guide_links_its_related_guides_and_the_index(client, guide):
    page = parse(client.get(f"/guide/{guide.slug}/"))

    for slug in guide.related:
        assert f"/guide/{slug}/" in page.hrefs
    assert "/guide/" in page.hrefs
    assert f"/guide/{guide.slug}/" not in page.hrefs  # no page links to itself


@pytest.mark.django_db
@pytest.mark.parametrize("guide", GUIDES, ids=lambda guide: guide.slug)
def test_a_guide_shows_the_crisis_line_once_at_the_bottom(client, guide):
    text = page_text(client.get(f"/guide/{guide.slug}/"))

    assert text.count("If you are in crisis") == 1
    assert text.index("If you are in crisis") > text.index("Related guides")
    assert "9-8-8" in text


@pytest.mark.django_db
def test_the_feedback_guide_says_strong_feelings_are_common_with_conversation_starters(client):
    response = client.get(FEEDBACK)
    text = page_text(response).lower()

    for feeling in ("frustration", "attachment", "disappointment"):
        assert feeling in text
    assert "common" in text
    assert "Ways to start the conversation" in parse(response).headings
    starters = re.findall(r'"([^"]+)"', html.unescape(response.content.decode()))
    assert len([quote for quote in starters if quote.endswith(("?", "."))]) >= 4


@pytest.mark.django_db
def test_the_consultation_guide_has_questions_on_each_topic(client):
    response = client.get(CONSULTATION)
    headings = parse(response).headings

    for topic in (
        "Fit",
        "How they work",
        "Fees",
        "Availability",
        "Contact between sessions",
        "If it does not feel right",
    ):
        assert topic in headings
    assert page_text(response).count("?") >= 15


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/guide/no-such-guide/", "/guide/WHY-FIT-MATTERS/", "/guide/_guide/", "/guide/index/"]
)
def test_an_unknown_guide_is_404(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/guide/", FIT])
def test_guides_only_answer_reads(client, path):
    assert client.post(path).status_code == 405
    assert client.head(path).status_code == 200


@pytest.mark.django_db
def test_the_index_lists_every_guide_in_order_with_its_summary(client):
    response = client.get("/guide/")

    assert response.status_code == 200
    page = parse(response)
    assert page.h1 == ["Guides"]
    assert page.headings == [guide.title for guide in GUIDES]
    guide_links = [href for href in page.hrefs if href.startswith("/guide/") and href != "/guide/"]
    assert guide_links == [FIT, CONSULTATION, FEEDBACK, CONTACT, GRADUATING]
    text = page_text(response)
    assert all(guide.summary in text for guide in GUIDES)
    assert response_problems(response, expect_no_store=False) == []


# --- where the guides are linked -------------------------------------------------------------


@pytest.mark.django_db
def test_the_home_page_links_why_fit_matters(client):
    assert FIT in parse(client.get("/")).hrefs


@pytest.mark.django_db
def test_the_search_page_links_why_fit_matters(client, reference_data):
    make_therapist()
    response = client.get("/therapists/?concern=anxiety")

    assert response.status_code == 200
    assert FIT in parse(response).hrefs


@pytest.mark.django_db
def test_the_therapist_profile_links_the_contact_guide_in_its_contact_policy(
    client, reference_data
):
    therapist = make_therapist()
    response = client.get(f"/therapists/{therapist.public_id}/")
    content = response.content.decode()

    assert response.status_code == 200
    assert CONTACT in parse(response).hrefs
    # In the contact policy panel: after its heading, before the next panel's.
    policy = content.index('id="contact-heading"')
    assert policy < content.index(f'href="{CONTACT}"') < content.index("</section>", policy)


@pytest.fixture
def bookable(reference_data: None) -> TherapistProfile:
    return make_bookable_therapist(display_name="Dana Reyes", user=make_therapist_user())


def _book(client: Client, therapist: TherapistProfile):
    first = free_times_ahead(therapist)[0]
    return client.post(
        f"/therapists/{therapist.public_id}/book/{slot_key(first.starts_at)}/",
        {"client_name": "Sam", "client_email": "sam@example.org", "time_zone": "America/Toronto"},
        follow=True,
    )


@pytest.mark.django_db
def test_the_page_after_booking_a_consultation_links_what_to_ask(client, bookable):
    response = _book(client, bookable)

    assert Appointment.objects.get().status == AppointmentStatus.CONFIRMED
    assert "Your consultation is booked." in page_text(response)
    assert CONSULTATION in parse(response).hrefs


@pytest.mark.django_db
def test_the_page_after_requesting_a_consultation_links_what_to_ask(client, bookable):
    bookable.booking_policy.requires_confirmation = True
    bookable.booking_policy.save()

    response = _book(client, bookable)

    assert Appointment.objects.get().status == AppointmentStatus.REQUESTED
    assert CONSULTATION in parse(response).hrefs


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (AppointmentKind.SESSION, AppointmentStatus.CONFIRMED),
        (AppointmentKind.CONSULTATION, AppointmentStatus.CANCELLED),
    ],
)
def test_the_manage_page_of_a_session_or_a_cancelled_consultation_does_not(
    client, reference_data, kind, status
):
    appointment = make_maya_appointment(make_therapist(), kind=kind, status=status)
    token = tokens.appointment_token_make(appointment=appointment, purpose=tokens.PURPOSE_MANAGE)

    response = client.get(f"/consultations/{token}/")

    assert response.status_code == 200
    assert CONSULTATION not in parse(response).hrefs


def _deliver(appointment: Appointment, purpose: str, recipient: Party, mailoutbox) -> str:
    row = outbox.outbox_write(
        appointment=appointment,
        purpose=purpose,
        recipient=recipient,
        due_at=timezone.now() + dt.timedelta(hours=1),
    )
    assert row is not None
    outbox.outbox_deliver(email_id=row.pk, now=row.due_at)
    [message] = mailoutbox
    return message.body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("purpose", "status"),
    [
        (outbox.PURPOSE_BOOKED, AppointmentStatus.CONFIRMED),
        (outbox.PURPOSE_REQUESTED, AppointmentStatus.REQUESTED),
        (outbox.PURPOSE_CONFIRMED, AppointmentStatus.CONFIRMED),
    ],
)
def test_the_clients_consultation_e_mail_links_what_to_ask_as_an_absolute_address(
    reference_data, mailoutbox, settings, purpose, status
):
    settings.SITE_URL = SITE
    therapist = make_therapist_with_account(display_name="Ada Okafor", email="ada@example.org")
    appointment = make_maya_appointment(therapist, status=status)

    body = _deliver(appointment, purpose, Party.CLIENT, mailoutbox)

    # On a line of its own, so every mail program makes it a link.
    assert f"{SITE}{CONSULTATION}" in body.splitlines()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("purpose", "kind", "recipient"),
    [
        (outbox.PURPOSE_BOOKED, AppointmentKind.SESSION, Party.CLIENT),
        (outbox.PURPOSE_CONFIRMED, AppointmentKind.SESSION, Party.CLIENT),
        (outbox.PURPOSE_BOOKED, AppointmentKind.CONSULTATION, Party.THERAPIST),
        (outbox.PURPOSE_CONFIRMED, AppointmentKind.CONSULTATION, Party.THERAPIST),
    ],
)
def test_session_e_mails_and_the_therapists_copy_do_not(
    reference_data, mailoutbox, settings, purpose, kind, recipient
):
    settings.SITE_URL = SITE
    therapist = make_therapist_with_account(display_name="Ada Okafor", email="ada@example.org")
    appointment = make_maya_appointment(therapist, kind=kind)

    body = _deliver(appointment, purpose, recipient, mailoutbox)

    assert CONSULTATION not in body
