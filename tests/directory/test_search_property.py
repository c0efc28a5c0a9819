"""The engine against a brute-force filter written straight from the ORM objects.

A seeded directory of 120 therapists across Canada and the US, random queries (any subset of
filters, a place among a few cities, a radius, delivery modes, text, a moment in time), and two
claims: the engine returns exactly the therapists the rules admit, in the promised order, and
every facet count equals the number of results the brute force finds for that option.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from rapport.core.geo import distance_km, fold, geocode
from rapport.directory.models import Licence, TherapistProfile, VerificationStatus
from rapport.directory.search import contract, engine
from rapport.directory.search.contract import SearchQuery
from rapport.directory.search.engine import nearby
from rapport.directory.search.text import matching_therapist_ids, search_words
from rapport.directory.seeding.demo import demo_directory_seed

SEED = 20261129
THERAPISTS = 120
SEEDED_AT = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
CITIES = ("Toronto", "Vancouver", "Montréal", "New York", "Los Angeles", "Chicago", "Calgary")
TEXT_WORDS = (
    "anxiety", "couples", "trauma", "grief", "nursing", "parenting", "families",
    "trail", "kitchen", "skills", "worried", "novel", "zebra", "Émilie", "cote", "Côté",
    "психолог",
)  # fmt: skip


@dataclass(frozen=True)
class Facts:
    """One therapist as the brute force sees it, read once from the ORM objects."""

    id: int
    name: str
    listed: bool
    accepting: bool
    confirmed_at: dt.datetime | None
    sets: dict[str, frozenset[str]]
    gender: str
    contact: str
    lgbtq2s_affirming: bool
    insurance: bool
    direct_billing: bool
    video_introduction: bool
    captioned_video: bool  # as stored: may be set without an introduction (facts out of step)
    fee: int
    floor: int | None
    style: dict[str, int]
    offers: dict[str, bool]
    licences: tuple[tuple[str, dt.date | None], ...]
    offices: tuple[tuple[float, float, frozenset[str]], ...]
    text: str
    next_consultation: dt.datetime | None


@pytest.fixture
def directory(db):
    demo_directory_seed(therapists=THERAPISTS, seed=SEED, now=SEEDED_AT)
    # Some licences run out while the queries move through time.
    licence_ids = list(Licence.objects.order_by("id").values_list("id", flat=True))
    Licence.objects.filter(id__in=licence_ids[::3]).update(
        expires_on=SEEDED_AT.date() + dt.timedelta(days=3)
    )
    # Next free consultations spread over the coming weeks (none known for every fourth).
    for profile_id in TherapistProfile.objects.values_list("id", flat=True):
        TherapistProfile.objects.filter(id=profile_id).update(
            next_consultation_at=None
            if profile_id % 4 == 0
            else SEEDED_AT + dt.timedelta(hours=(profile_id * 37) % (30 * 24))
        )
    # Video facts in every combination, including captions stored without a published
    # introduction (which must not count as a captioned video introduction).
    for profile_id in TherapistProfile.objects.values_list("id", flat=True):
        TherapistProfile.objects.filter(id=profile_id).update(
            has_video_introduction=profile_id % 3 != 0,
            has_captioned_video=profile_id % 5 in (0, 1, 2),
        )
    facts = []
    for profile in TherapistProfile.objects.prefetch_related(
        "concerns",
        "modalities",
        "populations",
        "languages",
        "faiths",
        "lived_experiences",
        "licences",
        "offices__accessibility_features",
    ).order_by("display_name", "id"):
        facts.append(
            Facts(
                id=profile.pk,
                name=profile.display_name,
                listed=profile.verification_status == VerificationStatus.VERIFIED
                and profile.is_listed,
                accepting=profile.accepting_new_clients,
                confirmed_at=profile.accepting_confirmed_at,
                sets={
                    key: frozenset(term.slug for term in getattr(profile, relation).all())
                    for key, relation in (
                        ("concerns", "concerns"),
                        ("modalities", "modalities"),
                        ("populations", "populations"),
                        ("languages", "languages"),
                        ("faiths", "faiths"),
                        ("lived_experiences", "lived_experiences"),
                    )
                },
                gender=profile.gender_category,
                contact=profile.between_session_contact,
                lgbtq2s_affirming=profile.lgbtq2s_affirming,
                insurance=profile.accepts_insurance,
                direct_billing=profile.direct_billing,
                video_introduction=profile.has_video_introduction,
                captioned_video=profile.has_captioned_video,
                fee=profile.fee_minor,
                floor=profile.sliding_scale_min_minor,
                style={name: getattr(profile, name) for name in engine.STYLE_FIELDS},
                offers={
                    "in_person": profile.offers_in_person,
                    "video": profile.offers_video,
                    "phone": profile.offers_phone,
                },
                licences=tuple(
                    (licence.jurisdiction_id, licence.expires_on)
                    for licence in profile.licences.all()
                ),
                offices=tuple(
                    (
                        office.latitude,
                        office.longitude,
                        frozenset(f.slug for f in office.accessibility_features.all()),
                    )
                    for office in profile.offices.all()
                ),
                text=" ".join(
                    (
                        profile.display_name,
                        profile.headline,
                        profile.about,
                        profile.approach,
                        profile.first_session,
                    )
                ),
                next_consultation=profile.next_consultation_at,
            )
        )
    # The name order a reader expects, worked out independently of the ORM's (code-point)
    # order and of the engine's collation key.
    facts.sort(key=lambda fact: (filed_as(fact.name), fact.id))
    # The data set must exercise the rules it is meant to test.
    assert sum(fact.listed for fact in facts) >= 80
    assert any(not fact.name[0].isascii() for fact in facts if fact.listed)  # É, Á, ...
    assert Licence.objects.exclude(jurisdiction_id__in=("CA-ON",)).exists()
    assert any(fact.listed and fact.video_introduction and fact.captioned_video for fact in facts)
    assert any(
        fact.listed and fact.video_introduction and not fact.captioned_video for fact in facts
    )
    assert any(
        fact.listed and not fact.video_introduction and fact.captioned_video for fact in facts
    )
    return facts


_LATIN_LETTER = re.compile(
    r"LATIN (?:SMALL|CAPITAL) (?:LETTER|LIGATURE) (?:DOTLESS )?([A-Z]{1,2})(?: WITH .+)?"
)


def filed_as(name: str) -> str:
    """How a printed index files a name, read from the Unicode name of each character: "LATIN
    CAPITAL LETTER E WITH ACUTE" is an e, "LATIN SMALL LETTER O WITH STROKE" an o, "LATIN
    CAPITAL LETTER AE" ae. Apostrophes are not letters; other punctuation separates words."""
    filed = []
    for char in name:
        described = unicodedata.name(char, "")
        letter = _LATIN_LETTER.fullmatch(described)
        if char in "'’":
            continue
        if described.endswith("LETTER SHARP S"):
            filed.append("ss")
        elif letter is not None:
            filed.append(letter.group(1).lower())
        elif char.isdigit():
            filed.append(char)
        else:
            filed.append(" ")
    return " ".join("".join(filed).split())


def test_the_filing_oracle_reads_character_names_as_a_reader_would():
    assert filed_as("Marie-Ève Côté") == "marie eve cote"
    assert filed_as("Łukasz Ødegaard-Æsa") == "lukasz odegaard aesa"
    assert filed_as("Siobhan O’Brien") == "siobhan obrien"


def _nearest_office_km(fact: Facts, query: SearchQuery, features: frozenset[str]) -> float | None:
    if not fact.offers["in_person"]:
        return None
    distances = [
        distance_km(latitude, longitude, query.latitude, query.longitude)  # type: ignore[arg-type]
        for latitude, longitude, office_features in fact.offices
        if features <= office_features
    ]
    inside = [distance for distance in distances if distance <= query.radius_km]
    return min(inside) if inside else None


def qualifies(fact: Facts, query: SearchQuery, now: dt.datetime, text_ids: set[int] | None):
    """(admitted?, distance) by the rules, written plainly."""
    floor = now - dt.timedelta(days=settings.LISTING_FRESHNESS_DAYS)
    if not fact.listed or fact.confirmed_at is None or fact.confirmed_at < floor:
        return False, None
    if query.accepting_only and not fact.accepting:
        return False, None
    for key in ("concerns", "modalities", "populations", "languages", "lived_experiences"):
        if not getattr(query, key) <= fact.sets[key]:
            return False, None
    if query.faiths and not query.faiths & fact.sets["faiths"]:
        return False, None
    if query.genders and fact.gender not in query.genders:
        return False, None
    if query.contact and fact.contact not in query.contact:
        return False, None
    if query.lgbtq2s_affirming and not fact.lgbtq2s_affirming:
        return False, None
    if query.insurance and not fact.insurance:
        return False, None
    if query.direct_billing and not fact.direct_billing:
        return False, None
    if query.has_video and not fact.video_introduction:
        return False, None
    # A captioned video introduction is first of all a video introduction.
    if query.captioned_video and not (fact.video_introduction and fact.captioned_video):
        return False, None
    if query.max_fee_minor is not None:
        lowest = fact.floor if query.sliding_scale and fact.floor is not None else fact.fee
        if lowest > query.max_fee_minor:
            return False, None
    for dimension, preferred in query.style:
        if abs(fact.style[dimension] - preferred) > 1:
            return False, None
    if text_ids is not None and fact.id not in text_ids:
        return False, None
    if query.consultation_within_days is not None and not (
        fact.next_consultation is not None
        and now <= fact.next_consultation <= now + dt.timedelta(days=query.consultation_within_days)
    ):
        return False, None
    if query.has_location:
        near = _nearest_office_km(fact, query, frozenset())
        licensed = any(
            code == query.jurisdiction_code and (expires is None or expires >= now.date())
            for code, expires in fact.licences
        )
        modes = {
            "in_person": near is not None,
            "video": fact.offers["video"] and licensed,
            "phone": fact.offers["phone"] and licensed,
        }
        wanted = query.delivery or frozenset(modes)
        if not any(modes[mode] for mode in wanted):
            return False, None
        distance = _nearest_office_km(fact, query, query.accessibility)
        if query.accessibility and distance is None:
            return False, None
        return True, distance
    if query.delivery and not any(fact.offers[mode] for mode in query.delivery):
        return False, None
    if query.accessibility and not (
        fact.offers["in_person"]
        and any(query.accessibility <= features for _, _, features in fact.offices)
    ):
        return False, None
    return True, None


def brute_force(facts, query, now, text_ids):
    admitted = []
    for fact in facts:
        ok, distance = qualifies(fact, query, now, text_ids)
        if ok:
            admitted.append((fact, distance))
    return admitted


def daily_tie_rank(therapist_id: int, now: dt.datetime) -> int:
    """The rule for ties (every order but name), restated in plain integers: the day's seed (an
    8-byte BLAKE2b of "<UTC date>|directory-search", top bit cleared) added to the id, then
    a 64-bit multiply-xorshift mix."""
    wrap = 2**64
    golden = 0x9E3779B97F4A7C15
    day = now.astimezone(dt.UTC).date().isoformat()
    digest = hashlib.blake2b(f"{day}|directory-search".encode(), digest_size=8).digest()
    seed = int.from_bytes(digest, "big") & (2**63 - 1)
    mixed = (therapist_id + seed) % wrap * golden % wrap
    mixed ^= mixed >> 31
    mixed = mixed * golden % wrap
    return mixed ^ (mixed >> 29)


def expected_order(admitted, query, now):
    # Name order: the directory fixture sorts the facts by filed_as(), then id.
    rank = {fact.id: position for position, (fact, _) in enumerate(admitted)}

    def key(item):
        fact, distance = item
        far = float("inf") if distance is None else distance
        tie = (daily_tie_rank(fact.id, now), rank[fact.id])
        if query.sort == "fee":
            return (fact.fee, *tie)
        if query.sort == "soonest":
            known = fact.next_consultation is not None and fact.next_consultation >= now
            return (
                fact.next_consultation if known else dt.datetime.max.replace(tzinfo=dt.UTC),
                *tie,
            )
        if query.sort == "distance" and query.has_location:
            return (far, *tie)
        if query.sort == "best_fit" and query.style:
            gap = sum(abs(fact.style[name] - value) for name, value in query.style)
            return (gap, far if query.has_location else 0.0, *tie)
        return (rank[fact.id],)

    return sorted(admitted, key=key)


# Multi-valued filters where one chosen value is enough (qualifies() above), by parameter.
ANY_OF_PARAMETERS = {
    "faith": "faiths",
    "gender": "genders",
    "contact": "contact",
    "delivery": "delivery",
}


def facet_variants(query: SearchQuery, result) -> dict[tuple[str, str], SearchQuery]:
    """For each facet option, the query whose result count that option's count must equal."""
    all_of = {
        "concern": "concerns",
        "modality": "modalities",
        "population": "populations",
        "language": "languages",
        "lived_experience": "lived_experiences",
        "accessibility": "accessibility",
    }
    any_of = ANY_OF_PARAMETERS
    flags = {
        "lgbtq2s_affirming": "lgbtq2s_affirming",
        "insurance": "insurance",
        "direct_billing": "direct_billing",
        "has_video": "has_video",
        "captioned_video": "captioned_video",
        "sliding_scale": "sliding_scale",
    }
    variants = {}
    for key, options in result.facets.items():
        for option in options:
            change: dict[str, Any]
            if key in all_of:
                change = {all_of[key]: getattr(query, all_of[key]) | {option.value}}
            elif key in any_of:
                change = {any_of[key]: frozenset({option.value})}
            elif key in flags:
                change = {flags[key]: True}
            elif key == "consultation_within_days":
                change = {"consultation_within_days": int(option.value)}
            else:
                assert key == "accepting"
                change = {"accepting_only": False}
            variants[key, option.value] = dataclasses.replace(query, **change)
    return variants


def test_the_contract_names_the_any_of_filters_this_oracle_applies():
    # The contract says which filters take any of their values; this oracle applies the rules.
    assert set(ANY_OF_PARAMETERS) == set(contract.ANY_OF_PARAMS)


SLUGS = {
    "concerns": ("anxiety", "depression", "trauma", "grief", "relationships", "stress"),
    "modalities": ("cbt", "act", "emdr", "person-centred", "mindfulness"),
    "populations": ("individuals", "couples", "families", "teens"),
    "languages": ("en", "fr", "es", "pa"),
    "lived_experiences": ("immigration", "parenthood", "neurodivergence"),
    "faiths": ("christian", "jewish", "muslim", "spiritual"),
    "genders": ("woman", "man", "non_binary", "undisclosed"),
    "contact": ("none", "scheduling", "brief_check_ins"),
    "accessibility": ("step-free", "elevator", "accessible-washroom", "transit"),
    "delivery": ("in_person", "video", "phone"),
}


ANY_OF = ("genders", "faiths", "contact", "delivery")


def small_set(options, most):
    return st.frozensets(st.sampled_from(options), max_size=most)


@st.composite
def queries(draw):
    def sometimes(strategy, otherwise):
        # Each filter is in use about one time in five, so many queries still find someone.
        return draw(strategy) if draw(st.integers(0, 4)) == 0 else otherwise

    fields = {
        key: sometimes(small_set(options, 2 if key in ANY_OF else 1), frozenset())
        for key, options in SLUGS.items()
    }
    city = sometimes(st.sampled_from(CITIES), None) or sometimes(st.sampled_from(CITIES), None)
    if city is not None:
        place = geocode(city)
        fields.update(
            latitude=place.latitude,
            longitude=place.longitude,
            place_label=place.label,
            # Now and then a point outside any served province or state: no remote care.
            jurisdiction_code=None if draw(st.integers(0, 9)) == 0 else place.jurisdiction_code,
            radius_km=draw(st.sampled_from((5.0, 25.0, 100.0, 300.0, 500.0))),
        )
    dimensions = draw(
        st.lists(st.sampled_from(engine.STYLE_FIELDS), max_size=2, unique=True)
        if draw(st.booleans())
        else st.just([])
    )
    style = tuple((name, draw(st.integers(1, 5))) for name in dimensions)
    sorts = (
        ["name", "fee", "soonest"]
        + (["distance"] if city else [])
        + (["best_fit"] if style else [])
    )
    words = sometimes(st.lists(st.sampled_from(TEXT_WORDS), min_size=1, max_size=2), [])
    return SearchQuery(
        **fields,
        style=style,
        max_fee_minor=sometimes(st.sampled_from((8000, 12000, 15000, 20000)), None),
        sliding_scale=draw(st.booleans()),
        insurance=draw(st.booleans()) and draw(st.booleans()),
        direct_billing=draw(st.booleans()) and draw(st.booleans()),
        has_video=draw(st.booleans()) and draw(st.booleans()),
        captioned_video=draw(st.booleans()) and draw(st.booleans()),
        lgbtq2s_affirming=draw(st.booleans()) and draw(st.booleans()),
        accepting_only=sometimes(st.just(False), True),
        consultation_within_days=sometimes(st.sampled_from((1, 2, 7, 14, 30)), None),
        text=" ".join(words),
        sort=draw(st.sampled_from(sorts)),
        page=1,
        page_size=1000,
    )


@hypothesis_settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.parametrize(
    "restrict_at_most",
    # Near a place the engine searches the index cut to the rows that can meet the client
    # there (engine.nearby) unless those are most of the index: both ways, every time.
    [pytest.param(1.0, id="restricted"), pytest.param(-1.0, id="whole index")],
)
@given(query=queries(), days_later=st.integers(0, 2) | st.integers(0, 40))
def test_engine_agrees_with_brute_force(
    directory, monkeypatch, restrict_at_most, query, days_later
):
    now = SEEDED_AT + dt.timedelta(days=days_later, hours=1)
    monkeypatch.setattr(nearby, "RESTRICT_AT_MOST", restrict_at_most)
    monkeypatch.setattr(nearby, "CUT_PLACES_SEEN_BEFORE_ONLY", False)
    index = engine.current_index()
    assert index.nearby is not None
    index.nearby.clear()  # places restricted (or not) under the other setting
    text_ids = (
        None
        if matching_therapist_ids(query.text) is None
        else set(matching_therapist_ids(query.text).tolist())  # type: ignore[union-attr]
    )
    if text_ids:
        # The text oracle is the database's stemmer; check it is at least plausible.
        by_id = {fact.id: fold(fact.text) for fact in directory}
        for therapist_id in text_ids:
            for word in search_words(query.text):
                assert fold(word)[:4] in by_id[therapist_id]
    if search_words(query.text):
        # Searchable words always filter (a word found nowhere finds nobody, in any script);
        # only stop words mean "no text filter".
        assert text_ids is not None

    result = engine.search(query, now=now)
    event("results: none" if result.total == 0 else "results: some")
    event(f"with a place: {query.has_location}")
    admitted = expected_order(brute_force(directory, query, now, text_ids), query, now)
    assert [hit.therapist_id for hit in result.hits] == [fact.id for fact, _ in admitted]
    assert result.total == len(admitted)
    for hit, (_, distance) in zip(result.hits, admitted, strict=True):
        if distance is None:
            assert hit.distance_km is None
        else:
            assert hit.distance_km == pytest.approx(distance, rel=1e-9)
            assert hit.distance_km <= query.radius_km

    for (key, value), variant in facet_variants(query, result).items():
        count = next(option.count for option in result.facets[key] if option.value == value)
        assert count == len(brute_force(directory, variant, now, text_ids)), (key, value)
