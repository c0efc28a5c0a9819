import datetime as dt
import re
import uuid
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from rapport.directory.models import (
    AccessibilityFeature,
    BetweenSessionContact,
    Concern,
    Designation,
    Faith,
    Language,
    Licence,
    Regulator,
    VerificationStatus,
)
from rapport.directory.search.engine import current_index
from tests.factories import make_office, make_therapist

LIST_URL = "/therapists/"


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """Every test here needs the taxonomies and credentials."""


def profile_url(therapist):
    return f"/therapists/{therapist.public_id}/"


def card_names(response):
    """Therapist names on a list page, in order."""
    return re.findall(
        r'<a href="/therapists/[0-9a-f-]{36}/">([^<]+)</a>', response.content.decode()
    )


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.script_bodies = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_bodies.append(data)


def parse_tags(response):
    parser = _Tags()
    parser.feed(response.content.decode())
    return parser


# --- base template ---------------------------------------------------------------------------


def test_every_page_has_landmarks_skip_link_and_crisis_note(client):
    response = client.get("/")

    assertContains(
        response, '<a class="skip-link" href="#main">Skip to main content</a>', html=True
    )
    assertContains(response, '<main id="main" tabindex="-1">')
    assertContains(response, '<header class="site-header">')
    assertContains(response, '<nav class="site-nav" aria-label="Main">')
    assertContains(response, '<footer class="site-footer">')
    assertContains(
        response,
        '<p class="crisis-note"><strong>If you are in crisis:</strong> in Canada and the US call '
        'or text <a href="tel:988">9-8-8</a>; call <a href="tel:911">911</a> in immediate '
        "danger. Rapport is a directory, not an emergency service.</p>",
        html=True,
    )


def test_pages_load_only_first_party_scripts_and_styles_and_no_inline_script(client):
    therapist = make_therapist()
    # The search page adds its own small script (geolocation, htmx error swaps), from a file.
    expected_scripts = {
        "/": ["/static/django_htmx/htmx-2.min.js"],
        LIST_URL: ["/static/django_htmx/htmx-2.min.js", "/static/directory/search.js"],
        profile_url(therapist): ["/static/django_htmx/htmx-2.min.js"],
    }
    for url, expected in expected_scripts.items():
        page = parse_tags(client.get(url))
        scripts = [attrs for tag, attrs in page.tags if tag == "script"]
        stylesheets = [attrs["href"] for tag, attrs in page.tags if tag == "link"]

        assert [script["src"] for script in scripts] == expected
        assert all(script.get("nonce") for script in scripts)
        assert "".join(page.script_bodies).strip() == ""
        own = ["/static/directory/search.css"] if url in ("/", LIST_URL) else []
        assert stylesheets == ["/static/core/favicon.svg", "/static/core/rapport.css", *own]
        assert not any("style" in attrs for _, attrs in page.tags)


# --- home ------------------------------------------------------------------------------------


def test_home_shows_the_number_of_listed_therapists(client):
    make_therapist()
    make_therapist()
    make_therapist(is_listed=False)

    response = client.get("/")

    assertContains(
        response,
        '<p class="hero__count">2 verified therapists are accepting new clients right now.</p>',
        html=True,
    )
    assertContains(response, '<a class="button" href="/therapists/">Browse the directory</a>')


def test_home_has_a_place_search_that_lands_on_the_results(client):
    therapist = make_therapist(offers_in_person=True, offers_video=False)
    make_office(therapist)

    page = parse_tags(client.get("/"))

    forms = [attrs for tag, attrs in page.tags if tag == "form" and attrs.get("role") == "search"]
    assert forms == [
        {
            "class": "home-search",
            "method": "get",
            "action": "/therapists/#results",
            "role": "search",
            "aria-label": "Find a therapist near you",
        }
    ]
    inputs = [
        attrs for tag, attrs in page.tags if tag == "input" and attrs.get("id") == "home-near"
    ]
    assert [attrs["name"] for attrs in inputs] == ["near"]
    labels = [
        attrs for tag, attrs in page.tags if tag == "label" and attrs.get("for") == "home-near"
    ]
    assert len(labels) == 1
    # What the form sends finds the therapist near that place, nearest first.
    response = client.get(LIST_URL, {"near": "Toronto"})
    assertContains(response, "1 therapist matches near Toronto, ON.")
    assertContains(response, '<option value="" selected>Nearest first</option>', html=True)


def test_home_uses_the_singular_for_one_therapist(client):
    make_therapist()

    assertContains(
        client.get("/"),
        '<p class="hero__count">1 verified therapist is accepting new clients right now.</p>',
        html=True,
    )


def test_home_says_so_when_nobody_is_listed(client):
    assertContains(
        client.get("/"),
        '<p class="hero__count">No therapists are listed right now. Please check back soon.</p>',
        html=True,
    )


def test_home_states_the_freshness_window_from_settings(client, settings):
    settings.LISTING_FRESHNESS_DAYS = 14

    assertContains(client.get("/"), "Therapists confirm at least every 14 days")


# --- directory list --------------------------------------------------------------------------


def test_list_shows_only_listed_therapists(client):
    make_therapist(display_name="Fresh Verified")
    make_therapist(
        display_name="Pending",
        verification_status=VerificationStatus.PENDING,
        verification_decided_at=None,
    )
    make_therapist(display_name="Rejected", verification_status=VerificationStatus.REJECTED)
    make_therapist(display_name="Suspended", verification_status=VerificationStatus.SUSPENDED)
    make_therapist(display_name="Unlisted", is_listed=False)
    make_therapist(display_name="Full", accepting_new_clients=False)
    make_therapist(
        display_name="Stale", accepting_confirmed_at=timezone.now() - dt.timedelta(days=31)
    )

    response = client.get(LIST_URL)

    assert response.status_code == 200
    assert card_names(response) == ["Fresh Verified"]
    assertContains(response, ">1 therapist matches.</p>")


def test_list_card_shows_what_a_client_compares(client):
    therapist = make_therapist(
        display_name="Amira Haddad",
        pronouns="she/her",
        headline="Warm, practical help with anxiety.",
        fee_minor=15000,
        sliding_scale_min_minor=9050,
        offers_in_person=True,
        offers_video=True,
        offers_phone=True,
        practice_start_year=timezone.now().year - 12,
        concerns=["anxiety", "depression"],
    )
    make_office(therapist, city="Hamilton")
    make_office(therapist, city="Toronto")

    response = client.get(LIST_URL)

    assertContains(
        response,
        f'<h3 class="card__name" id="therapist-{therapist.public_id}">'
        f'<a href="/therapists/{therapist.public_id}/">Amira Haddad</a> '
        '<span class="pronouns">(she/her)</span></h3>',
        html=True,
    )
    assertContains(
        response,
        '<p class="card__credentials"><abbr title="Registered Psychotherapist">RP</abbr>'
        " · Licensed in Ontario</p>",
        html=True,
    )
    assertContains(response, '<p class="card__headline">Warm, practical help with anxiety.</p>')
    assertContains(
        response,
        '<ul class="tags" aria-label="Can help with"><li>Anxiety</li>'
        "<li>Depression and low mood</li></ul>",
        html=True,
    )
    assertContains(
        response,
        '<dl class="card__facts">'
        "<div><dt>Fee</dt><dd>CA$150 per session, sliding scale from CA$90.50</dd></div>"
        "<div><dt>Sessions</dt><dd>In person, video and phone</dd></div>"
        "<div><dt>Location</dt><dd>Hamilton</dd></div>"
        "<div><dt>Experience</dt><dd>12 years in practice</dd></div>"
        "</dl>",
        html=True,
    )


def test_list_card_says_virtual_only_and_counts_extra_concerns(client):
    therapist = make_therapist(offers_in_person=False, fee_minor=12000, currency="USD")
    therapist.concerns.set(Concern.objects.order_by("sort_order", "name")[:6])

    response = client.get(LIST_URL)

    assertContains(response, '<li class="tags__more">and 2 more</li>', html=True)
    assertContains(response, "<div><dt>Location</dt><dd>Virtual only</dd></div>", html=True)
    assertContains(response, "<div><dt>Fee</dt><dd>US$120 per session</dd></div>", html=True)


def test_list_card_names_every_licensed_jurisdiction(client):
    therapist = make_therapist()
    Licence.objects.create(
        therapist=therapist,
        jurisdiction_id="CA-BC",
        designation=Designation.objects.get(code="RCC"),
        regulator=Regulator.objects.get(jurisdiction_id="CA-BC", abbreviation="BCACC"),
        number="7",
    )

    assertContains(
        client.get(LIST_URL),
        '<p class="card__credentials"><abbr title="Registered Psychotherapist">RP</abbr>'
        " · Licensed in British Columbia and Ontario</p>",
        html=True,
    )


def test_list_card_notes_a_video_introduction_and_whether_it_is_captioned(client):
    make_therapist(
        display_name="Ada Captioned",
        headline="Hello.",
        has_video_introduction=True,
        has_captioned_video=True,
    )
    make_therapist(display_name="Ben Video", has_video_introduction=True)
    make_therapist(display_name="Cy Plain")
    # Captions stored without a published introduction say nothing on the card.
    make_therapist(display_name="Di Stray", has_captioned_video=True)

    response = client.get(LIST_URL, {"sort": "name"})
    body = response.content.decode()

    assert card_names(response) == ["Ada Captioned", "Ben Video", "Cy Plain", "Di Stray"]
    cards = dict(zip(card_names(response), body.split('<article class="card"')[1:], strict=True))
    assert cards["Ada Captioned"].count('<p class="card__meta">') == 1
    assertContains(
        response,
        '<p class="card__headline">Hello.</p>\n'
        '  <p class="card__meta">Video introduction, captioned</p>',
    )
    assert '<p class="card__meta">Video introduction</p>' in cards["Ben Video"]
    assert "Video introduction" not in cards["Cy Plain"]
    assert "Video introduction" not in cards["Di Stray"]


@pytest.fixture
def five_therapists(settings):
    settings.DIRECTORY_PAGE_SIZE = 2
    for name in ("Ada", "Ben", "Cy", "Dee", "Eve"):
        make_therapist(display_name=name)


def test_list_pages_through_therapists_in_name_order(client, five_therapists):
    # Name order is a choice: the default order's ties rotate daily (test_search_ties).
    first = client.get(LIST_URL, {"sort": "name"})
    second = client.get(LIST_URL, {"sort": "name", "page": "2"})
    last = client.get(LIST_URL, {"sort": "name", "page": "3"})

    assert card_names(first) == ["Ada", "Ben"]
    assert card_names(second) == ["Cy", "Dee"]
    assert card_names(last) == ["Eve"]
    assertContains(second, '<p class="pagination__summary">Page 2 of 3</p>', html=True)
    assertContains(second, '<a href="?sort=name&amp;page=1" rel="prev">Previous', html=False)
    assertContains(second, '<a href="?sort=name&amp;page=3" rel="next">Next', html=False)
    assertContains(
        second,
        '<span aria-current="page"><span class="visually-hidden">Page </span>2</span>',
        html=True,
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "That page number was not recognised, so here is page 1."),
        ("1.5", "That page number was not recognised, so here is page 1."),
        ("-1", "That page number was not recognised, so here is page 1."),
        ("٣", "That page number was not recognised, so here is page 1."),
        ("1_0", "That page number was not recognised, so here is page 1."),
        ("+2", "That page number was not recognised, so here is page 1."),
        ("0", "Pages start at 1, so here is page 1."),
        ("000", "Pages start at 1, so here is page 1."),
    ],
)
def test_list_bad_page_value_shows_page_one_with_a_message(client, five_therapists, raw, message):
    response = client.get(LIST_URL, {"sort": "name", "page": raw})

    assert response.status_code == 200
    assertContains(response, f'<div class="notice" role="status"><p>{message}</p></div>', html=True)
    assert card_names(response) == ["Ada", "Ben"]


@pytest.mark.parametrize("raw", ["4", "99", "99999999999999999999999999", "9" * 5000])
def test_list_page_past_the_end_says_how_many_pages_and_links_to_the_last(
    client, five_therapists, raw
):
    response = client.get(LIST_URL, {"page": raw})

    assert response.status_code == 404
    assertContains(
        response,
        '<div class="notice" role="status"><p>There are only 3 pages.</p>'
        '<p><a href="?page=3">Go to the last page (page 3)</a></p></div>',
        html=True,
        status_code=404,
    )
    assert card_names(response) == []


def test_list_page_past_the_end_of_a_single_page(client):
    make_therapist()

    response = client.get(LIST_URL, {"page": "2"})

    assertContains(response, "<p>There is only 1 page.</p>", html=True, status_code=404)


def test_list_with_nobody_listed_says_so(client):
    response = client.get(LIST_URL)

    assertContains(response, ">No therapists match.</p>")
    assertContains(response, "<p>No therapist matches all of these choices.</p>", html=True)
    assertNotContains(response, 'class="notice"')


def test_list_query_count_does_not_grow_with_page_size(client, settings):
    concerns = list(Concern.objects.all()[:6])
    for number in range(55):
        therapist = make_therapist(display_name=f"Therapist {number:02d}", offers_in_person=True)
        therapist.concerns.set(concerns)
        make_office(therapist)
        make_office(therapist, city="Ottawa")
    # Steady state: the index is built once (by the first search), then only its stamp is read.
    client.get(LIST_URL)

    counts = {}
    for page_size in (5, 50):
        settings.DIRECTORY_PAGE_SIZE = page_size
        current_index().recent_cards.clear()  # cards read a moment ago would be reused
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST_URL)
        assert len(card_names(response)) == page_size
        counts[page_size] = len(queries)

    # The index's version stamp (read once per request), then the
    # page of profiles (with designation), licences, offices and concerns.
    assert counts == {5: 5, 50: 5}


# --- profile ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(
            {"verification_status": VerificationStatus.PENDING, "verification_decided_at": None},
            id="pending",
        ),
        pytest.param({"verification_status": VerificationStatus.SUSPENDED}, id="suspended"),
        pytest.param({"is_listed": False}, id="unlisted"),
        pytest.param({"accepting_new_clients": False}, id="not-accepting"),
        pytest.param(
            {"accepting_confirmed_at": timezone.now() - dt.timedelta(days=31)}, id="stale"
        ),
    ],
)
def test_profile_of_a_hidden_therapist_is_not_found(client, overrides):
    therapist = make_therapist(display_name="Hidden Person", **overrides)

    response = client.get(profile_url(therapist))

    assertContains(response, "<h1>We could not find that page</h1>", html=True, status_code=404)
    assertNotContains(response, "Hidden Person", status_code=404)


def test_profile_of_an_unknown_id_is_not_found(client):
    response = client.get(f"/therapists/{uuid.uuid4()}/")

    assertContains(response, "<h1>We could not find that page</h1>", html=True, status_code=404)


def test_profile_url_is_reversible_by_public_id():
    public_id = uuid.uuid4()

    assert reverse("directory:therapist_detail", args=[public_id]) == f"/therapists/{public_id}/"


def test_profile_shows_the_licence_and_contact_policy(client):
    therapist = make_therapist(
        reply_within_hours=48,
        between_session_contact=BetweenSessionContact.SCHEDULING,
    )
    therapist.licences.update(number="12345")

    response = client.get(profile_url(therapist))

    assert response.status_code == 200
    assertContains(response, "<span>Verified — licensed in Ontario (CRPO #12345)</span>", html=True)
    assertContains(
        response,
        "<p>Aims to reply within 2 days. Scheduling questions only between sessions.</p>",
        html=True,
    )


def test_profile_shows_published_contact_hours(client):
    therapist = make_therapist(
        reply_within_hours=24,
        between_session_contact=BetweenSessionContact.NONE,
        contact_hours="Weekdays 9:00–17:00",
    )

    assertContains(
        client.get(profile_url(therapist)),
        "<p>Aims to reply within a day. No contact between sessions. "
        "Contact hours: Weekdays 9:00–17:00.</p>",
        html=True,
    )


def test_profile_shows_what_a_client_reads(client):
    therapist = make_therapist(
        display_name="Dr. Jonathan Okafor",
        pronouns="they/them",
        headline="Couples therapy that is practical and kind.",
        about="First paragraph.\n\nSecond paragraph.",
        approach="Emotion-focused, mostly.",
        first_session="We talk about what brings you here.",
        practice_start_year=timezone.now().year - 1,
        style_structure=1,
        style_direction=2,
        style_challenge=3,
        style_time_focus=4,
        style_humour=5,
        fee_minor=17500,
        sliding_scale_min_minor=10000,
        accepts_insurance=True,
        direct_billing=True,
        insurance_note="Most extended health plans.",
        session_minutes=60,
        consultation_minutes=20,
        offers_in_person=True,
        offers_video=True,
        lgbtq2s_affirming=True,
        concerns=["anxiety"],
        modalities=["cbt"],
        populations=["couples"],
        languages=["en", "fr"],
    )
    office = make_office(
        therapist,
        label="Annex office",
        street_address="1 Bloor St W",
        city="Toronto",
        postal_code="M4W 1A8",
        accessibility_note="Ring the buzzer at the side door.",
    )
    office.accessibility_features.set(
        AccessibilityFeature.objects.filter(name__in=["Elevator", "Step-free entrance"])
    )

    response = client.get(profile_url(therapist))

    assertContains(
        response,
        '<h1>Dr. Jonathan Okafor <span class="pronouns">(they/them)</span></h1>',
        html=True,
    )
    assertContains(response, '<span class="avatar avatar--large" aria-hidden="true">JO</span>')
    assertContains(
        response,
        '<p class="profile-header__designation">Registered Psychotherapist (RP)'
        " · 1 year in practice</p>",
        html=True,
    )
    assertContains(response, "Couples therapy that is practical and kind.")
    assertContains(response, "<p>First paragraph.</p><p>Second paragraph.</p>", html=True)
    assertContains(response, "<p>Emotion-focused, mostly.</p>", html=True)
    assertContains(response, "<p>We talk about what brings you here.</p>", html=True)
    for words in (
        "Structured",
        "Closer to directive",
        "Between gentle and challenging",
        "Closer to past-focused",
        "Often uses humour",
    ):
        assertContains(response, f'<p class="style-words">{words}</p>', html=True)
    assertContains(response, "<li>Anxiety</li>", html=True)
    assertContains(response, "<li>Cognitive behavioural therapy (CBT)</li>", html=True)
    assertContains(response, "<li>Couples</li>", html=True)
    assertContains(response, '<p class="muted">A 2SLGBTQ+ affirming practice.</p>', html=True)
    assertContains(
        response,
        "<div><dt>Fee</dt><dd>CA$175 per 60-minute session</dd></div>"
        "<div><dt>Sliding scale</dt><dd>From CA$100, depending on what you can pay</dd></div>"
        "<div><dt>Insurance</dt><dd><p>Accepts insurance.</p>"
        "<p>Bills your insurer directly, so you pay only what is not covered.</p>"
        "<p>Most extended health plans.</p></dd></div>"
        "<div><dt>Free consultation</dt><dd>20 minutes, free</dd></div>"
        "<div><dt>Sessions</dt><dd>In person and video</dd></div>"
        "<div><dt>Languages</dt><dd>English and French</dd></div>"
        "<div><dt>Time zone</dt><dd>Eastern Time (Toronto)</dd></div>",
        html=True,
    )
    assertContains(
        response,
        "<h3>Annex office</h3><address>1 Bloor St W<br>Toronto, Ontario M4W 1A8</address>",
        html=True,
    )
    assertContains(
        response,
        '<ul class="check-list" aria-label="Accessibility features">'
        "<li>Step-free entrance</li><li>Elevator</li></ul>",
        html=True,
    )
    assertContains(response, "Ring the buzzer at the side door.")
    assertContains(response, "Accepting new clients — confirmed 2 days ago.")


def test_profile_of_a_virtual_therapist_says_there_are_no_in_person_sessions(client):
    therapist = make_therapist(offers_in_person=False, offers_video=True, offers_phone=True)

    assertContains(
        client.get(profile_url(therapist)),
        "<p>Video and phone. No in-person sessions.</p>",
        html=True,
    )


def test_profile_hides_the_identity_section_when_nothing_was_disclosed(client):
    therapist = make_therapist(display_name="Quiet Person")

    response = client.get(profile_url(therapist))

    assertNotContains(response, "About Quiet Person")
    assertNotContains(response, "Identifies as 2SLGBTQ+")


def test_profile_shows_only_self_disclosed_identity_items(client):
    therapist = make_therapist(
        display_name="Open Person",
        gender_description="Trans woman",
        identifies_as_lgbtq2s=True,
        cultural_background="Lebanese-Canadian",
    )
    therapist.faiths.set(Faith.objects.filter(slug__in=["muslim", "jewish"]))

    response = client.get(profile_url(therapist))

    assertContains(response, '<h2 id="identity-heading">About Open Person</h2>', html=True)
    assertContains(
        response,
        '<dl class="facts"><div><dt>Gender</dt><dd>Trans woman</dd></div>'
        "<div><dt>2SLGBTQ+</dt><dd>Identifies as 2SLGBTQ+</dd></div>"
        "<div><dt>Cultural background</dt><dd>Lebanese-Canadian</dd></div>"
        "<div><dt>Faith or spirituality</dt><dd>Muslim and Jewish</dd></div></dl>",
        html=True,
    )


def test_profile_query_count_does_not_grow_with_terms_and_offices(client):
    therapist = make_therapist()
    therapist.concerns.set(Concern.objects.all())
    therapist.languages.set(Language.objects.all())
    for city in ("Toronto", "Ottawa", "Kingston"):
        office = make_office(therapist, city=city)
        office.accessibility_features.set(AccessibilityFeature.objects.all())

    with CaptureQueriesContext(connection) as queries:
        response = client.get(profile_url(therapist))

    assert response.status_code == 200
    # The profile, then licences, offices, office features and the six term lists, and
    # booking's part: how the free consultation happens (its policy, with the office), and
    # messaging's: the therapist's message hours.
    assert len(queries) == 12
