"""The search page /therapists/: the filter form, live counts, htmx partials and bad input."""

import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from rapport.core.geo import geocode
from rapport.directory import views
from rapport.directory.models import Concern, Language, Licence
from rapport.directory.search.contract import (
    FacetCount,
    SearchHit,
    SearchParam,
    SearchResult,
)
from rapport.directory.search.engine import current_index, reset_index
from rapport.directory.seeding.demo import demo_directory_seed
from tests.factories import make_office, make_therapist

URL = "/therapists/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """Every test here needs the taxonomies and credentials."""


@pytest.fixture(autouse=True)
def _fresh_search_index(monkeypatch):
    """The factories write rows without bumping the index version, so rebuild per search."""

    def fresh_index():
        reset_index()
        return current_index()

    monkeypatch.setattr(views, "current_index", fresh_index)
    yield
    reset_index()


class _Controls(HTMLParser):
    """Form controls and labels of a page."""

    def __init__(self):
        super().__init__()
        self.controls = []  # (tag, attrs)
        self.label_for = set()
        self.tags = []
        self._in_card_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "form":
            # A result card's Save form (the shortlist's) is not a search control.
            self._in_card_form = "/shortlist/" in attrs.get("action", "")
        if tag in ("input", "select", "textarea") and not self._in_card_form:
            self.controls.append((tag, attrs))
        if tag == "label" and "for" in attrs:
            self.label_for.add(attrs["for"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_card_form = False


def controls(response):
    parser = _Controls()
    parser.feed(response.content.decode())
    return parser


def card_names(response):
    return re.findall(
        r'<a href="/therapists/[0-9a-f-]{36}/">([^<]+)</a>', response.content.decode()
    )


def checked_values(response, name):
    return [
        attrs["value"]
        for tag, attrs in controls(response).controls
        if attrs.get("name") == name and "checked" in attrs
    ]


# --- the form ----------------------------------------------------------------------------------


def test_every_filter_control_has_a_label_and_every_contract_parameter_a_control(client):
    make_therapist()

    page = controls(client.get(URL))

    visible = [
        attrs
        for tag, attrs in page.controls
        if attrs.get("type") != "hidden" and attrs.get("form") != "compare-form"
    ]
    unlabelled = [attrs.get("name") for attrs in visible if attrs.get("id") not in page.label_for]
    assert unlabelled == []
    names = {attrs.get("name") for tag, attrs in page.controls}
    # Every name a search understands, style dimensions included.
    parameters = {str(parameter) for parameter in SearchParam}
    # Page numbers are links; "accepting" is fixed on by the listing rule (shown as a sentence).
    assert parameters - names == {SearchParam.PAGE, SearchParam.ACCEPTING}
    hidden = {attrs["name"] for tag, attrs in page.controls if attrs.get("type") == "hidden"}
    assert hidden == {SearchParam.LATITUDE, SearchParam.LONGITUDE}


def test_form_is_a_get_form_enhanced_by_htmx(client):
    response = client.get(URL)

    assertContains(
        response,
        '<form id="search-form" class="search-form" method="get" action="/therapists/#results" '
        'role="search" aria-label="Filter therapists"\n      hx-get="/therapists/" '
        'hx-trigger="change, submit" hx-target="#search-results" hx-swap="innerHTML" '
        'hx-push-url="true" hx-sync="this:replace">',
    )
    assertContains(
        response,
        '<details class="filters-panel" id="filters-panel">'
        '\n    <summary class="filters-panel__summary">Filters</summary>',
    )


def test_the_place_and_search_button_come_before_the_filters_panel(client):
    # On a phone the panel is collapsed: the place and the button must not be inside it.
    response = client.get(URL)
    html = response.content.decode()

    form_at = html.index('<form id="search-form"')
    place_at = html.index('<input type="text" id="id_near"')
    button_at = html.index(
        '<button type="submit" class="button" id="search-button">Search</button>'
    )
    panel_at = html.index('<details class="filters-panel"')
    assert form_at < place_at < button_at < panel_at
    # A skip link to the results, and the count a search lands on can take focus.
    assert '<a class="search-skip" href="#results">Skip to results</a>' in html
    assert html.index('<a class="search-skip"') < form_at
    assertContains(client.get(URL), '<div id="results" class="results-anchor" tabindex="-1">')
    assertContains(
        response,
        '<button type="button" class="button button--quiet button--small" '
        'id="use-my-location" hidden>Use my location</button>',
    )


def test_query_string_round_trips_into_the_form(client):
    therapist = make_therapist(offers_in_person=True, accepts_insurance=True)
    therapist.concerns.set(Concern.objects.filter(slug__in=["anxiety", "grief"]))
    therapist.languages.set(Language.objects.filter(slug="fr"))
    make_office(therapist)

    response = client.get(
        URL,
        {
            "near": "Toronto",
            "radius_km": "50",
            "concern": ["anxiety", "grief"],
            "language": "fr",
            "delivery": "in_person",
            "max_fee": "200",
            "insurance": "1",
            "style_structure": "2",
            "q": "anxious",
            "sort": "fee",
        },
    )

    assert response.status_code == 200
    assert checked_values(response, "concern") == ["anxiety", "grief"]
    assert checked_values(response, "language") == ["fr"]
    assert checked_values(response, "delivery") == ["in_person"]
    assert checked_values(response, "insurance") == ["1"]
    assertContains(response, 'name="near" value="Toronto"')
    assertContains(response, 'name="max_fee" value="200"')
    assertContains(response, 'name="q" value="anxious"')
    assertContains(response, '<option value="50" selected>Within 50 km</option>', html=True)
    assertContains(response, '<option value="2" selected>2</option>', html=True)
    assertContains(response, '<option value="fee" selected>Lowest fee first</option>', html=True)
    # A chosen option's long list starts open, so the choice is visible.
    assertContains(response, '<details class="choice-group__more" open><summary>Choose from')


def test_video_filters_are_a_labelled_group_of_checkboxes_with_live_counts(client):
    make_therapist(has_video_introduction=True, has_captioned_video=True)
    make_therapist(has_video_introduction=True)
    make_therapist()

    response = client.get(URL)

    # The group is named by its legend and described by its hint.
    assert re.search(
        r'<fieldset class="choice-group" id="group-video" aria-describedby="hint-video">\s*'
        r"<legend>Video introduction</legend>\s*"
        r'<p class="choice-group__hint" id="hint-video">A short video',
        response.content.decode(),
    )
    for name, label, count in (
        ("has_video", "Has a video introduction", 2),
        ("captioned_video", "Has captioned videos", 1),
    ):
        assertContains(
            response,
            f'<input type="checkbox" id="id_{name}" name="{name}" value="1" '
            f'aria-describedby="error-{name}">',
        )
        assertContains(
            response,
            f'<label for="id_{name}">{label} <span class="facet-count" '
            f'id="count-id_{name}">({count})</span></label>',
            html=True,
        )


def sort_menu(response) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of each option of the sort menu."""
    menu = re.search(r'<select id="id_sort".*?</select>', response.content.decode(), re.S)
    assert menu is not None
    return [
        (value, label, bool(selected))
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', menu.group(0)
        )
    ]


def test_sort_offers_best_fit_only_with_a_style_and_nearest_only_with_a_place(client):
    make_therapist(offers_in_person=True)

    plain = client.get(URL)
    styled_near = client.get(URL, {"style_humour": "4", "near": "Toronto", "radius_km": "500"})

    # The default for the search as it stands comes first, as an empty value.
    assert [value for value, _label, _selected in sort_menu(plain)] == ["", "fee", "name"]
    assert sort_menu(plain)[0] == ("", "Soonest free consultation", True)
    assert [value for value, _label, _selected in sort_menu(styled_near)] == [
        "",
        "best_fit",
        "fee",
        "soonest",
        "name",
    ]
    assert sort_menu(styled_near)[0] == ("", "Nearest first", True)


def test_a_sort_that_no_longer_applies_falls_back_instead_of_failing(client):
    make_therapist()

    response = client.get(URL, {SearchParam.SORT: "best_fit"})

    assert response.status_code == 200
    assert sort_menu(response)[0] == ("", "Soonest free consultation", True)


def _near_and_far():
    far = make_therapist(display_name="Ann Ottawa", offers_in_person=True, offers_video=False)
    make_office(far, city="Ottawa", latitude=45.4215, longitude=-75.6972)
    near = make_therapist(display_name="Zed Toronto", offers_in_person=True, offers_video=False)
    make_office(near)


def test_typing_a_place_into_the_form_sorts_nearest_first(client):
    # The form as first shown (no place) sends its sort menu's selected value: typing a
    # place and submitting must give nearest first, not keep an order named earlier.
    _near_and_far()
    first = client.get(URL)
    sent_sort = next(value for value, _label, selected in sort_menu(first) if selected)

    response = client.get(URL, {"near": "Toronto", "radius_km": "500", "sort": sent_sort})

    assert card_names(response) == ["Zed Toronto", "Ann Ottawa"]
    assert sort_menu(response)[0] == ("", "Nearest first", True)


def test_name_order_stays_available_with_a_place(client):
    _near_and_far()

    response = client.get(URL, {"near": "Toronto", "radius_km": "500", "sort": "name"})

    assert card_names(response) == ["Ann Ottawa", "Zed Toronto"]
    assert ("name", "Name (A to Z)", True) in sort_menu(response)


def test_without_a_place_the_soonest_free_consultation_comes_first(client):
    # Neither has a known consultation time here, so the two fall back to name order; the
    # engine's test of the soonest order itself is in test_search_engine.
    _near_and_far()

    response = client.get(URL)

    assert sort_menu(response)[0] == ("", "Soonest free consultation", True)
    assert ("soonest", "Soonest free consultation", False) not in sort_menu(response)


# --- results ------------------------------------------------------------------------------------


def test_result_count_is_announced_in_a_polite_live_region(client):
    make_therapist()
    make_therapist()

    page = client.get(URL)
    assertContains(
        page, '<p id="result-count" class="result-count">2 therapists match.</p>', html=True
    )
    # One live region, beside the filters' buttons (where a person changing a filter far down
    # the page is), so a new count is said once; htmx fills both it and the count above.
    assertContains(
        page,
        '<p class="search-filter-status" id="filter-status" role="status" aria-live="polite" '
        'aria-atomic="true"></p>',
        html=True,
    )
    fragment = client.get(URL, {"delivery": "video"}, **HTMX)
    assertContains(
        fragment, '<p id="filter-status" hx-swap-oob="innerHTML">2 therapists match.</p>'
    )
    assertContains(fragment, '<p id="result-count" hx-swap-oob="innerHTML">2 therapists match.</p>')


def test_options_that_would_find_nobody_are_disabled_unless_ticked(client):
    make_therapist(offers_in_person=False, offers_video=True, accepts_insurance=False)

    page = client.get(URL, {"delivery": "phone"})
    html = page.content.decode()

    # Nobody offers phone: it finds nobody, but it is ticked, so it stays usable.
    assert re.search(
        r'<input type="checkbox" id="id_delivery_2" name="delivery" value="phone" checked>', html
    )
    # In person would find nobody either: disabled. Video finds one: usable.
    assert re.search(
        r'<input type="checkbox" id="id_delivery_0" name="delivery" value="in_person" disabled>',
        html,
    )
    assert re.search(
        r'<input type="checkbox" id="id_delivery_1" name="delivery" value="video">', html
    )
    # A yes/no filter with a count of 0 too, and the sentence that says why.
    assert re.search(
        r'<input type="checkbox" id="id_insurance" name="insurance" value="1" '
        r'aria-describedby="error-insurance" disabled>',
        html,
    )
    assertContains(page, "A choice showing (0) would find nobody together with your other choices")


def test_a_ticked_yes_no_filter_with_no_one_stays_usable(client):
    make_therapist(accepts_insurance=False)

    html = client.get(URL, {"insurance": "1"}).content.decode()

    assert re.search(
        r'<input type="checkbox" id="id_insurance" name="insurance" value="1" '
        r'aria-describedby="error-insurance" checked>',
        html,
    )


def test_filters_narrow_the_results(client):
    anxious = make_therapist(display_name="Anxiety Helper")
    anxious.concerns.set(Concern.objects.filter(slug="anxiety"))
    make_therapist(display_name="Someone Else")

    response = client.get(URL, {"concern": "anxiety"})

    assert card_names(response) == ["Anxiety Helper"]
    assertContains(response, ">1 therapist matches.</p>")


def test_ways_of_meeting_accept_any_chosen_one_each_under_its_own_rule(client):
    # Near Toronto, in person counts an office within the radius; phone and video count only
    # from a therapist licensed in Ontario.
    office = make_therapist(display_name="Ada Office", offers_in_person=True, offers_video=False)
    make_office(office)
    make_therapist(display_name="Ben Phone", offers_phone=True, offers_video=False)
    elsewhere = make_therapist(display_name="Cy BC Phone", offers_phone=True, offers_video=False)
    Licence.objects.filter(therapist=elsewhere).update(jurisdiction_id="CA-BC")
    ottawa = make_therapist(display_name="Di Ottawa", offers_in_person=True, offers_video=True)
    make_office(ottawa, city="Ottawa", latitude=45.4215, longitude=-75.6972)
    make_therapist(display_name="Ed Video")

    response = client.get(URL, {"near": "Toronto", "delivery": ["in_person", "phone"]})

    assert card_names(response) == ["Ada Office", "Ben Phone"]
    assert checked_values(response, "delivery") == ["in_person", "phone"]
    assertContains(
        response, '<p class="choice-group__hint" id="hint-delivery">Any of the ones you choose.</p>'
    )
    # Each option counts what it alone would find with the other filters as they are.
    for number, count in enumerate((1, 2, 1)):
        assertContains(
            response,
            f'<span class="facet-count" id="count-id_delivery_{number}">({count})</span>',
        )


def test_video_filters_narrow_the_results_and_stay_checked(client):
    captioned = make_therapist(
        display_name="Ada Captioned", has_video_introduction=True, has_captioned_video=True
    )
    captioned.concerns.set(Concern.objects.filter(slug="anxiety"))
    make_therapist(display_name="Ben Video", has_video_introduction=True)
    make_therapist(display_name="Cy Plain")

    with_video = client.get(URL, {"has_video": "1"})
    captioned_only = client.get(URL, {"captioned_video": "1"})
    both = client.get(URL, {"has_video": "1", "captioned_video": "1", "concern": "anxiety"})

    assert sorted(card_names(with_video)) == ["Ada Captioned", "Ben Video"]
    assert checked_values(with_video, "has_video") == ["1"]
    assert checked_values(with_video, "captioned_video") == []
    assertContains(with_video, ">2 therapists match.</p>")
    assert card_names(captioned_only) == ["Ada Captioned"]
    assert checked_values(captioned_only, "captioned_video") == ["1"]
    assert card_names(both) == ["Ada Captioned"]
    assert card_names(client.get(URL, {"captioned_video": "1", "concern": "grief"})) == []


def test_video_counts_follow_the_other_filters_in_the_htmx_fragment(client):
    for name, concern, captioned in (("Ada", "anxiety", True), ("Ben", "grief", False)):
        therapist = make_therapist(
            display_name=name, has_video_introduction=True, has_captioned_video=captioned
        )
        therapist.concerns.set(Concern.objects.filter(slug=concern))
    make_therapist(display_name="Cy").concerns.set(Concern.objects.filter(slug="grief"))

    everyone = client.get(URL, **HTMX)
    grief = client.get(URL, {"concern": "grief"}, **HTMX)

    assertContains(everyone, '<span id="count-id_has_video" hx-swap-oob="innerHTML">(2)</span>')
    assertContains(
        everyone, '<span id="count-id_captioned_video" hx-swap-oob="innerHTML">(1)</span>'
    )
    assertContains(grief, '<span id="count-id_has_video" hx-swap-oob="innerHTML">(1)</span>')
    assertContains(grief, '<span id="count-id_captioned_video" hx-swap-oob="innerHTML">(0)</span>')
    assertContains(grief, '<p id="error-has_video" hx-swap-oob="innerHTML"></p>')


def test_only_accepting_therapists_are_shown_even_when_a_link_asks_for_all(client):
    make_therapist(display_name="Open")
    make_therapist(display_name="Full", accepting_new_clients=False)

    response = client.get(URL, {SearchParam.ACCEPTING: "0"})

    assert card_names(response) == ["Open"]


def test_cards_show_the_distance_when_searching_near_a_place(client):
    therapist = make_therapist(display_name="Near Person", offers_in_person=True)
    toronto = geocode("Toronto")
    make_office(therapist, latitude=toronto.latitude, longitude=toronto.longitude)
    make_therapist(display_name="Virtual Person", offers_in_person=False)

    response = client.get(URL, {"near": "Toronto"})

    assertContains(response, ">2 therapists match near Toronto, ON.</p>")
    assertContains(
        response, "<div><dt>Distance</dt><dd>Less than 0.1 km away</dd></div>", html=True
    )
    assert response.content.decode().count("<dt>Distance</dt>") == 1


@pytest.mark.parametrize(
    ("distance", "label"),
    [
        (None, ""),
        (0.04, "Less than 0.1 km away"),
        (3.24, "3.2 km away"),
        (9.96, "10.0 km away"),
        (12.6, "13 km away"),
        (1234.4, "1,234 km away"),
    ],
)
def test_distance_label(distance, label):
    assert views.distance_label(distance) == label


def test_facet_counts_are_shown_beside_each_option(client, monkeypatch):
    make_therapist()
    result = SearchResult(
        total=1204,
        page=1,
        pages=61,
        hits=[],
        facets={
            "concern": [FacetCount("anxiety", "Anxiety", 1204, False)],
            "insurance": [FacetCount("1", "Accepts insurance", 37, False)],
        },
    )
    monkeypatch.setattr(views, "search", lambda query, *, now, index=None: result)

    response = client.get(URL)

    assertContains(
        response,
        '<label for="id_concern_0">Anxiety <span class="facet-count" '
        'id="count-id_concern_0">(1,204)</span></label>',
        html=True,
    )
    assertContains(
        response,
        '<label for="id_insurance">Accepts insurance <span class="facet-count" '
        'id="count-id_insurance">(37)</span></label>',
        html=True,
    )
    assertContains(response, ">1,204 therapists match.</p>")


def test_pagination_keeps_every_filter(client, settings):
    settings.DIRECTORY_PAGE_SIZE = 2
    for name in ("Ada", "Ben", "Cy"):
        therapist = make_therapist(display_name=name)
        therapist.concerns.set(Concern.objects.filter(slug="anxiety"))

    first = client.get(URL, {"concern": "anxiety", "delivery": "video"})
    second = client.get(URL, {"concern": "anxiety", "delivery": "video", "page": "2"})

    # Tied in the default order (no known free time): the day's order, with no one on both
    # pages and no one lost.
    assert len(card_names(first)) == 2
    assert sorted(card_names(first) + card_names(second)) == ["Ada", "Ben", "Cy"]
    assertContains(first, '<a href="?concern=anxiety&amp;delivery=video&amp;page=2" rel="next">')
    assertContains(second, '<a href="?concern=anxiety&amp;delivery=video&amp;page=1" rel="prev">')


def test_page_past_the_end_keeps_the_filters_in_the_link_to_the_last_page(client, settings):
    settings.DIRECTORY_PAGE_SIZE = 2
    for _ in range(3):
        make_therapist()

    response = client.get(URL, {"delivery": "video", "page": "9"})

    assertContains(
        response,
        '<div class="notice" role="status"><p>There are only 2 pages.</p>'
        '<p><a href="?delivery=video&amp;page=2">Go to the last page (page 2)</a></p></div>',
        html=True,
        status_code=404,
    )


# --- htmx ---------------------------------------------------------------------------------------


def test_htmx_request_gets_only_the_results_and_out_of_band_updates(client):
    make_therapist(display_name="Only One")

    response = client.get(URL, {"delivery": "video"}, **HTMX)
    body = response.content.decode()

    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="search-form"' not in body
    assert card_names(response) == ["Only One"]
    assertContains(
        response, '<p id="result-count" hx-swap-oob="innerHTML">1 therapist matches.</p>'
    )
    assertContains(response, '<span id="count-id_delivery_1" hx-swap-oob="innerHTML">(1)</span>')
    assertContains(response, '<p id="error-max_fee" hx-swap-oob="innerHTML"></p>')
    assert "HX-Request" in response["Vary"]


def test_full_page_and_fragment_vary_on_the_htmx_header(client):
    assert "HX-Request" in client.get(URL)["Vary"]


# --- bad input ----------------------------------------------------------------------------------


def test_bad_input_renders_the_page_with_a_message_beside_the_field_and_keeps_choices(client):
    make_therapist()

    response = client.get(
        URL, {"max_fee": "abc", "concern": "anxiety", "insurance": "1", "near": ""}
    )

    assert response.status_code == 400
    message = "Enter the most you can pay as a number, not “abc”."
    assertContains(
        response, f'<p class="field-error" id="error-max_fee">{message}</p>', status_code=400
    )
    assertContains(
        response,
        '<input type="text" inputmode="numeric" id="id_max_fee" name="max_fee" value="abc" '
        'size="8" aria-describedby="error-max_fee hint-max_fee" aria-invalid="true">',
        status_code=400,
    )
    assertContains(
        response, f'<li><a href="#id_max_fee">{message}</a></li>', html=True, status_code=400
    )
    assertContains(response, ">One of your choices needs a change.</p>", status_code=400)
    assert checked_values(response, "concern") == ["anxiety"]
    assert checked_values(response, "insurance") == ["1"]
    assert card_names(response) == []
    # The filters panel opens, so the message is seen on a narrow screen too.
    assertContains(
        response, '<details class="filters-panel" id="filters-panel" open>', status_code=400
    )


def test_unknown_place_is_reported_beside_the_place_field_in_the_htmx_fragment(client):
    response = client.get(URL, {"near": "Xyzzyville"}, **HTMX)

    # htmx drops 4xx answers, so the fragment carrying the message is a 200; the page is a 400.
    assert response.status_code == 200
    assertContains(
        response,
        '<p id="error-near" hx-swap-oob="innerHTML">We could not find “Xyzzyville” in Canada or '
        "the United States. Try a city with its province or state, e.g. “Toronto, ON”.</p>",
    )
    assertContains(
        response,
        '<p id="result-count" hx-swap-oob="innerHTML">One of your choices needs a change.</p>',
    )
    assert client.get(URL, {"near": "Xyzzyville"}).status_code == 400


@pytest.mark.parametrize("name", ["has_video", "captioned_video"])
def test_a_bad_video_flag_is_reported_beside_its_checkbox_like_other_flags(client, name):
    response = client.get(URL, {name: "maybe", "insurance": "1"})

    message = f"Use 1 or 0 for {name}, not “maybe”."
    assertContains(
        response, f'<p class="field-error" id="error-{name}">{message}</p>', status_code=400
    )
    assertContains(
        response, f'<li><a href="#id_{name}">{message}</a></li>', html=True, status_code=400
    )
    assert checked_values(response, "insurance") == ["1"]
    assert card_names(response) == []
    fragment = client.get(URL, {name: "maybe"}, **HTMX)
    assertContains(fragment, f'<p id="error-{name}" hx-swap-oob="innerHTML">{message}</p>')


def test_an_unknown_option_value_is_reported_on_its_fieldset(client):
    response = client.get(URL, {"concern": "not-a-concern"})

    assertContains(
        response,
        '<fieldset class="choice-group choice-group--invalid" id="group-concern" '
        'aria-describedby="error-concern hint-concern">',
        status_code=400,
    )
    assertContains(
        response,
        '<p class="field-error" id="error-concern">Unknown concern: “not-a-concern”.</p>',
        status_code=400,
    )


@pytest.mark.parametrize(
    "params",
    [
        {"lat": "91", "lon": "0"},
        {"lat": "x"},
        {"radius_km": "-5"},
        {"style_structure": "9"},
        {"sort": "random"},
        {"q": "x" * 500},
        {"gender": "robot"},
        {"insurance": "maybe"},
        {"has_video": "maybe"},
        {"captioned_video": "2"},
        # Past Python's 4,300-digit limit for int().
        {"style_structure": "9" * 5000},
        {"consultation_within_days": "9" * 5000},
        {"max_fee": "9" * 5000},
        {"max_fee": "1e26"},
        # Digits of other scripts: not a ZIP code, a place nobody can find.
        {"near": "１０００１"},
        {"near": "١٠٠٠١"},
    ],
)
def test_bad_values_are_never_a_server_error(client, params):
    response = client.get(URL, params)

    assert response.status_code == 400
    assertContains(response, "One of your choices needs a change", status_code=400)


# --- query count --------------------------------------------------------------------------------


def test_search_page_query_count_is_flat_in_page_size(client, settings, monkeypatch):
    demo_directory_seed(therapists=120, seed=7, now=timezone.now())
    monkeypatch.setattr(views, "current_index", current_index)
    reset_index()
    client.get(URL)  # builds this process's index once

    counts = {}
    for page_size in (5, 50):
        settings.DIRECTORY_PAGE_SIZE = page_size
        current_index().recent_cards.clear()  # cards read a moment ago would be reused
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"delivery": "video"})
        assert len(card_names(response)) == page_size
        counts[page_size] = len(queries)

    # One index-stamp read, then the page's profiles, licences, offices and concerns.
    assert counts == {5: 5, 50: 5}


def test_hidden_hit_from_a_stale_index_is_not_shown(client, monkeypatch):
    shown = make_therapist(display_name="Shown")
    hidden = make_therapist(display_name="Hidden", is_listed=False)
    result = SearchResult(
        total=2, page=1, pages=1, hits=[SearchHit(hidden.pk, None), SearchHit(shown.pk, None)]
    )
    monkeypatch.setattr(views, "search", lambda query, *, now, index=None: result)

    response = client.get(URL)

    assert card_names(response) == ["Shown"]
    assertNotContains(response, "Hidden")


# --- no results: the changes that bring results back --------------------------------------


def suggestions(response) -> list[tuple[str, str, str]]:
    """(link text, href, count) of each suggestion under "no therapist matches"."""
    block = re.search(r'<ul class="search-suggestions">(.*?)</ul>', response.content.decode(), re.S)
    if block is None:
        return []
    return [
        (text, href.replace("&amp;", "&"), count)
        for href, text, count in re.findall(
            r'<li><a href="([^"]*)">([^<]*)</a>: ([^<]*)</li>', block.group(1)
        )
    ]


def _toronto_and_mississauga():
    # Two offices at the point "Toronto" finds, and one in Mississauga about 24 km from it:
    # outside 5 and 10 km, inside 25.
    toronto = geocode("Toronto")
    for name in ("Zed Toronto", "Bo Toronto"):
        make_office(
            make_therapist(display_name=name, offers_in_person=True, offers_video=False),
            latitude=toronto.latitude,
            longitude=toronto.longitude,
        )
    far = make_therapist(
        display_name="Mia Mississauga",
        offers_in_person=True,
        offers_video=False,
        accepts_insurance=True,
    )
    make_office(far, city="Mississauga", latitude=43.589, longitude=-79.644)


def test_no_results_offers_a_wider_distance_and_a_filter_to_drop_with_their_counts(client):
    _toronto_and_mississauga()

    response = client.get(URL, {"near": "Toronto", "radius_km": "5", "insurance": "1"})

    assert card_names(response) == []
    assert suggestions(response) == [
        (
            "Search within 25 km",
            "/therapists/?near=Toronto&radius_km=25&insurance=1#results",
            "1 therapist",
        ),
        (
            "Without “accepts insurance”",
            "/therapists/?near=Toronto&radius_km=5#results",
            "2 therapists",
        ),
    ]
    # Each link shows exactly the count it promised.
    wider = client.get(suggestions(response)[0][1].removesuffix("#results"))
    assert card_names(wider) == ["Mia Mississauga"]
    without = client.get(suggestions(response)[1][1].removesuffix("#results"))
    assert sorted(card_names(without)) == ["Bo Toronto", "Zed Toronto"]


def test_no_results_names_the_filter_whose_removal_finds_the_most(client):
    _toronto_and_mississauga()

    response = client.get(
        URL, {"near": "Toronto", "radius_km": "500", "insurance": "1", "max_fee": "1"}
    )

    assert card_names(response) == []
    # Dropping the budget finds Mia (the only one with insurance); dropping insurance finds
    # nobody under a budget of 1, and no distance helps with 500 km already asked for.
    assert suggestions(response) == [
        (
            "Without “the budget”",
            "/therapists/?near=Toronto&radius_km=500&insurance=1#results",
            "1 therapist",
        ),
    ]


def test_no_suggestion_when_nothing_would_bring_results_back(client):
    response = client.get(URL, {"q": "zzzz"})

    assert card_names(response) == []
    assert suggestions(response) == []
    assertContains(response, "No therapist matches all of these choices.")
