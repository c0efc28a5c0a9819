"""Turns (seed, index) into one believable therapist, the same every time.

Each therapist gets its own random generator seeded from the run's seed and its index, so the
directory is identical across runs and machines, and a re-run can build just the missing ones.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
import uuid
from bisect import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from rapport.core.geo import Place, distance_km, served_cities
from rapport.core.postcodes import area_nearest
from rapport.directory import rules
from rapport.directory.seeding import vocabulary as words

T = TypeVar("T")

# Share of therapists per country; the rest of the weight is by town size.
COUNTRY_SHARE = {"CA": 0.45, "US": 0.55}
MIN_TOWN_POPULATION = 20_000


@dataclass(frozen=True)
class ReferenceData:
    """Ids of the rows the generator refers to, loaded once per run."""

    concern_ids: dict[str, int]
    modality_ids: dict[str, int]
    population_ids: dict[str, int]
    language_ids: dict[str, int]
    faith_ids: dict[str, int]
    lived_experience_ids: dict[str, int]
    accessibility_ids: dict[str, int]
    designation_ids: dict[str, int]
    # jurisdiction code -> [(regulator id, regulator abbreviation, [designation codes])]
    regulators: dict[str, list[tuple[int, str, list[str]]]]
    concern_names: dict[str, str]
    modality_names: dict[str, str]


@dataclass
class GeneratedOffice:
    fields: dict[str, object]
    accessibility_ids: list[int]


@dataclass
class GeneratedTherapist:
    fields: dict[str, object]
    concern_ids: list[int]
    modality_ids: list[int]
    population_ids: list[int]
    language_ids: list[int]
    faith_ids: list[int]
    lived_experience_ids: list[int]
    # (jurisdiction code, designation id, regulator id, licence number)
    licences: list[tuple[str, int, int, str]]
    offices: list[GeneratedOffice] = field(default_factory=list)


class _Towns:
    """Towns per country with cumulative weights for fast weighted draws."""

    def __init__(self) -> None:
        self.by_country: dict[str, tuple[list[Place], list[float]]] = {}
        for country in COUNTRY_SHARE:
            towns = [
                place
                for place in served_cities()
                if place.country_code == country and place.population >= MIN_TOWN_POPULATION
            ]
            # Bigger towns have more therapists, but less than in proportion to their size.
            weights = itertools.accumulate(place.population**0.85 for place in towns)
            self.by_country[country] = (towns, list(weights))

    def draw(self, rng: random.Random, country: str) -> Place:
        towns, cumulative = self.by_country[country]
        return towns[bisect(cumulative, rng.random() * cumulative[-1])]


def _weighted_sample(rng: random.Random, weights: Mapping[str, float], count: int) -> list[str]:
    """Draw ``count`` distinct keys, each with probability in proportion to its weight."""
    # Efraimidis–Spirakis: the keys with the largest u**(1/w) form a weighted sample.
    keyed = sorted(weights, key=lambda key: rng.random() ** (1.0 / weights[key]), reverse=True)
    return keyed[:count]


def _pick(rng: random.Random, options: Sequence[T]) -> T:
    return options[int(rng.random() * len(options))]


def _chance(rng: random.Random, probability: float) -> bool:
    return rng.random() < probability


def _weighted_choice(rng: random.Random, weights: Mapping[str, float]) -> str:
    total = sum(weights.values())
    target = rng.random() * total
    key = ""
    for key, weight in weights.items():
        target -= weight
        if target < 0:
            return key
    return key  # only reached through rounding at the very top of the range


_PROPER_NOUN_STARTS = ("Gottman",)


def _in_sentence(name: str) -> str:
    """ "Trauma and PTSD" → "trauma and PTSD": lower-case the first letter unless it starts an
    acronym such as ADHD."""
    if (len(name) > 1 and name[1].isupper()) or name.startswith(_PROPER_NOUN_STARTS):
        return name
    return name[:1].lower() + name[1:]


def _round_to(value: float, step: int) -> int:
    return int(round(value / step) * step)


_GENDER_WEIGHTS = {"woman": 68, "man": 25, "non_binary": 4, "two_spirit": 0.5, "another": 0.5,
                   "undisclosed": 2}  # fmt: skip
_DESIGNATION_FEES = {
    # Typical full fee per session, in whole currency units (mean, spread).
    "RP": (150, 20), "RSW": (145, 20), "RCC": (140, 20), "CCT": (130, 15),
    "C.Psych": (240, 25), "R.Psych": (220, 25), "L.Psych": (210, 25), "Psychologue": (150, 20),
    "T.S.": (120, 15), "T.C.F.": (130, 15), "LCSW": (150, 30), "LMFT": (150, 30),
    "LPC": (130, 25), "LMHC": (140, 25), "LPCC": (140, 25), "LCPC": (135, 25),
    "PsyD": (220, 40), "PhD": (230, 40),
}  # fmt: skip
_PSYCHOLOGIST_TITLES = {"C.Psych", "R.Psych", "L.Psych", "Psychologue", "PsyD", "PhD"}
_COUPLES_TITLES = {"LMFT", "RMFT", "T.C.F."}


class TherapistGenerator:
    def __init__(self, *, seed: int, reference: ReferenceData, now: dt.datetime) -> None:
        self.seed = seed
        self.reference = reference
        self.now = now
        self.towns = _Towns()
        self.concern_weights = {
            slug: weight
            for slug, weight in words.CONCERN_WEIGHTS.items()
            if slug in reference.concern_ids
        }
        self.credentials_by_jurisdiction: dict[str, tuple[list[tuple[int, str]], list[float]]] = {}
        for code, regulators in reference.regulators.items():
            pairs = [
                (regulator_id, title) for regulator_id, _, titles in regulators for title in titles
            ]
            weights = itertools.accumulate(
                1.0 if title in _PSYCHOLOGIST_TITLES else 3.0 for _, title in pairs
            )
            self.credentials_by_jurisdiction[code] = (pairs, list(weights))
        self.modality_weights = {
            slug: weight
            for slug, weight in words.MODALITY_WEIGHTS.items()
            if slug in reference.modality_ids
        }

    def seed_key(self, index: int) -> str:
        return f"seed{self.seed}-{index:07d}"

    def generate(self, index: int) -> GeneratedTherapist:
        rng = random.Random(self.seed * 1_000_003 + index)
        reference = self.reference

        country = "CA" if rng.random() < COUNTRY_SHARE["CA"] else "US"
        home = self.towns.draw(rng, country)
        heritage_key = "CA-QC" if home.jurisdiction_code == "CA-QC" else country
        heritage = _weighted_choice(rng, words.HERITAGE_WEIGHTS[heritage_key])

        gender = _weighted_choice(rng, _GENDER_WEIGHTS)
        if gender == "two_spirit" and heritage != "indigenous":
            gender = "non_binary"
        name_pool = words.GIVEN_NAMES[heritage]
        given_key = gender if gender in ("woman", "man") else "neutral"
        given = _pick(rng, name_pool[given_key])
        surname = _pick(rng, words.SURNAMES[heritage])
        # Many clinicians list a middle initial; it also keeps 100,000 names from repeating.
        middle = f" {_pick(rng, 'ABCDEFGHJKLMNPRSTVW')}." if _chance(rng, 0.3) else ""
        display_name = f"{given}{middle} {surname}"

        # Credentials follow the jurisdiction: a regulator there, a title it grants.
        # Counsellors, psychotherapists and social workers far outnumber psychologists.
        credentials = self.credentials_by_jurisdiction[home.jurisdiction_code]
        regulator_id, title = credentials[0][
            bisect(credentials[1], rng.random() * credentials[1][-1])
        ]
        licences = [(home.jurisdiction_code, reference.designation_ids[title], regulator_id,
                     self._licence_number(rng, country, title))]  # fmt: skip
        if _chance(rng, 0.12):
            # A second licence, usually for telehealth across a nearby border.
            other = self._second_jurisdiction(rng, country, home.jurisdiction_code, title)
            if other is not None:
                licences.append(other)

        years = max(0, min(40, int(rng.expovariate(1 / 11))))
        start_year = self.now.year - years - 1

        concerns = _weighted_sample(rng, self.concern_weights, rng.randint(3, 8))
        modalities = _weighted_sample(rng, self.modality_weights, rng.randint(2, 5))
        populations = self._populations(rng, title)
        languages = self._languages(rng, home, heritage)

        fee_mean, fee_spread = _DESIGNATION_FEES.get(title, (150, 25))
        fee = max(60, _round_to(rng.gauss(fee_mean, fee_spread), 5))
        sliding = None
        if _chance(rng, 0.35 if title not in _PSYCHOLOGIST_TITLES else 0.2):
            sliding = max(40, _round_to(fee * rng.uniform(0.4, 0.8), 5))
        if country == "US":
            accepts_insurance = _chance(rng, 0.45)
            direct_billing = accepts_insurance and _chance(rng, 0.8)
            insurance_note = _pick(rng, words.INSURANCE_NOTES_US) if accepts_insurance else ""
        else:
            accepts_insurance = _chance(rng, 0.7)
            direct_billing = accepts_insurance and _chance(rng, 0.45)
            insurance_note = _pick(rng, words.INSURANCE_NOTES_CA) if accepts_insurance else ""

        in_person = _chance(rng, 0.55)
        video = not in_person or _chance(rng, 0.85)
        phone = _chance(rng, 0.3)

        style = self._style(rng, modalities)
        verification = _weighted_choice(
            rng, {"verified": 92, "pending": 5, "rejected": 1, "suspended": 2}
        )
        decided_at = None
        if verification != "pending":
            decided_at = self.now - dt.timedelta(
                days=rng.randint(20, 900), minutes=rng.randint(0, 1439)
            )
        # Most listings are fresh; some therapists forgot to re-confirm and drop out of search.
        stale = _chance(rng, 0.1)
        confirmed_days_ago = rng.uniform(31, 120) if stale else rng.uniform(0, 29)

        fill = self._text_fill(rng, concerns, modalities, populations, years)
        disclose_lgbtq = _chance(rng, 0.35)
        fields: dict[str, object] = {
            "public_id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "seed_key": self.seed_key(index),
            "display_name": display_name,
            "pronouns": words.PRONOUNS[gender] if _chance(rng, 0.8) else "",
            "gender_category": gender,
            "gender_description": self._gender_description(gender),
            "cultural_background": (
                _pick(rng, words.CULTURAL_BACKGROUNDS[heritage]) if _chance(rng, 0.3) else ""
            ),
            "identifies_as_lgbtq2s": (_chance(rng, 0.4) or gender in ("non_binary", "two_spirit"))
            if disclose_lgbtq
            else None,
            "lgbtq2s_affirming": _chance(rng, 0.7),
            "practice_start_year": start_year,
            "headline": _pick(rng, words.HEADLINES).format(**fill),
            "about": " ".join(
                (
                    _pick(rng, words.ABOUT_OPENINGS).format(**fill),
                    _pick(rng, words.ABOUT_MIDDLES).format(**fill),
                    _pick(rng, words.ABOUT_CLOSINGS).format(**fill),
                )
            ),
            "approach": _pick(rng, words.APPROACH_TEXTS).format(**fill),
            "first_session": _pick(rng, words.FIRST_SESSION_TEXTS),
            "designation_id": reference.designation_ids[title],
            "verification_status": verification,
            "verification_decided_at": decided_at,
            # Generated profiles are complete and were sent for review (no random draw here:
            # the same seed keeps generating the same therapists).
            "submitted_for_review_at": (decided_at or self.now) - dt.timedelta(days=2),
            "verification_reason": "Licence confirmed on the regulator's public register."
            if verification == "verified"
            else "",
            "style_structure": style[0],
            "style_direction": style[1],
            "style_challenge": style[2],
            "style_time_focus": style[3],
            "style_humour": min(5, max(1, round(rng.gauss(3, 1.1)))),
            "fee_minor": fee * 100,
            "currency": "CAD" if country == "CA" else "USD",
            "sliding_scale_min_minor": sliding * 100 if sliding is not None else None,
            "accepts_insurance": accepts_insurance,
            "direct_billing": direct_billing,
            "insurance_note": insurance_note,
            "session_minutes": 80
            if "couples" in populations and _chance(rng, 0.3)
            else _weighted_choice(rng, {"50": 70, "60": 22, "45": 8}),
            "consultation_minutes": int(
                _weighted_choice(rng, {"15": 75, "20": 10, "30": 5, "0": 10})
            ),
            "offers_in_person": in_person,
            "offers_video": video,
            "offers_phone": phone,
            "time_zone": home.time_zone,
            "accepting_new_clients": _chance(rng, 0.88),
            "accepting_confirmed_at": self.now - dt.timedelta(days=confirmed_days_ago),
            "is_listed": _chance(rng, 0.97),
            "between_session_contact": _weighted_choice(
                rng, {"none": 25, "scheduling": 55, "brief_check_ins": 20}
            ),
            "reply_within_hours": int(_weighted_choice(rng, {"24": 35, "48": 45, "72": 20})),
            "contact_hours": _pick(rng, words.CONTACT_HOURS),
        }
        fields["session_minutes"] = int(str(fields["session_minutes"]))

        therapist = GeneratedTherapist(
            fields=fields,
            concern_ids=[reference.concern_ids[slug] for slug in concerns],
            modality_ids=[reference.modality_ids[slug] for slug in modalities],
            population_ids=[reference.population_ids[slug] for slug in populations],
            language_ids=[reference.language_ids[slug] for slug in languages],
            faith_ids=self._faiths(rng),
            lived_experience_ids=self._lived_experiences(rng, heritage),
            licences=licences,
        )
        if in_person:
            therapist.offices.append(self._office(rng, home))
            if _chance(rng, 0.1):
                therapist.offices.append(
                    self._office(rng, self.towns.draw(rng, country) if _chance(rng, 0.2) else home)
                )
        return therapist

    # --- pieces --------------------------------------------------------------------------

    def _licence_number(self, rng: random.Random, country: str, title: str) -> str:
        if country == "CA":
            return str(rng.randint(1000, 99999))
        prefix = {"PsyD": "PSY", "PhD": "PSY"}.get(title, title)
        return f"{prefix}{rng.randint(10000, 999999)}"

    def _second_jurisdiction(
        self, rng: random.Random, country: str, home_code: str, title: str
    ) -> tuple[str, int, int, str] | None:
        candidates = [
            (code, regulator_id)
            for code, regulators in self.reference.regulators.items()
            if code.startswith(country) and code != home_code
            for regulator_id, _, titles in regulators
            if title in titles
        ]
        if not candidates:
            return None
        code, regulator_id = _pick(rng, candidates)
        return (code, self.reference.designation_ids[title], regulator_id,
                self._licence_number(rng, country, title))  # fmt: skip

    def _populations(self, rng: random.Random, title: str) -> list[str]:
        couples_share = 0.8 if title in _COUPLES_TITLES else 0.25
        chosen = ["individuals"] if _chance(rng, 0.96) else []
        for slug, share in (("couples", couples_share), ("families", 0.15), ("teens", 0.2),
                            ("children", 0.07), ("older-adults", 0.15)):  # fmt: skip
            if _chance(rng, share):
                chosen.append(slug)
        if not chosen:
            chosen = ["couples"]
        return [slug for slug in chosen if slug in self.reference.population_ids]

    def _languages(self, rng: random.Random, home: Place, heritage: str) -> list[str]:
        if home.jurisdiction_code == "CA-QC":
            languages = ["fr"] + (["en"] if _chance(rng, 0.65) else [])
        elif heritage == "french":
            languages = ["en", "fr"] if _chance(rng, 0.8) else ["en"]
        else:
            languages = ["en"]
            if home.country_code == "CA" and _chance(rng, 0.08):
                languages.append("fr")
        if _chance(rng, 0.3):
            extra = _pick(rng, words.HERITAGE_LANGUAGES[heritage])
            if extra not in languages:
                languages.append(extra)
        return [slug for slug in languages if slug in self.reference.language_ids]

    def _style(self, rng: random.Random, modalities: list[str]) -> tuple[int, int, int, int]:
        pulls = [words.MODALITY_STYLE_PULL[m] for m in modalities if m in words.MODALITY_STYLE_PULL]
        placement = []
        for dimension in range(4):
            centre = sum(p[dimension] for p in pulls) / len(pulls) if pulls else 3.0
            placement.append(min(5, max(1, round(rng.gauss(centre, 0.8)))))
        return placement[0], placement[1], placement[2], placement[3]

    def _faiths(self, rng: random.Random) -> list[int]:
        if not _chance(rng, 0.2) or not self.reference.faith_ids:
            return []
        return [_pick(rng, list(self.reference.faith_ids.values()))]

    def _lived_experiences(self, rng: random.Random, heritage: str) -> list[int]:
        ids = self.reference.lived_experience_ids
        chosen: list[str] = []
        if heritage == "indigenous" and _chance(rng, 0.7):
            chosen.append("indigenous")
        if _chance(rng, 0.3):
            chosen.extend(_weighted_sample(rng, dict.fromkeys(ids, 1.0), rng.randint(1, 2)))
        return sorted({ids[slug] for slug in chosen if slug in ids})

    def _office(self, rng: random.Random, town: Place) -> GeneratedOffice:
        # Offices cluster around the town centre: most within a few kilometres.
        distance = abs(rng.gauss(0, 4.0))
        bearing = rng.uniform(0, 2 * math.pi)
        latitude = town.latitude + (distance / 111.0) * math.cos(bearing)
        longitude = town.longitude + (
            distance / (111.0 * math.cos(math.radians(town.latitude)))
        ) * math.sin(bearing)
        street_name = f"{_pick(rng, words.STREET_NAMES)} {_pick(rng, words.STREET_KINDS)}"
        street = f"{rng.randint(10, 2999)} {street_name}"
        suite = _pick(rng, words.SUITE_STYLES).format(n=rng.randint(100, 905))
        features = [slug for slug, share in (("step-free", 0.6), ("elevator", 0.5),
                    ("accessible-washroom", 0.45), ("scent-free", 0.3), ("quiet-waiting", 0.35),
                    ("parking", 0.4), ("transit", 0.55), ("service-animals", 0.3),
                    ("hearing-loop", 0.05)) if _chance(rng, share)]  # fmt: skip
        return GeneratedOffice(
            fields={
                "label": "",
                "street_address": f"{street}, {suite}" if suite else street,
                "city": town.name,
                "jurisdiction_id": town.jurisdiction_code,
                "postal_code": self._postal_code(rng, town),
                "latitude": round(max(-90.0, min(90.0, latitude)), 6),
                "longitude": round(max(-180.0, min(180.0, longitude)), 6),
                "time_zone": town.time_zone,
                "accessibility_note": "",
            },
            accessibility_ids=[
                self.reference.accessibility_ids[slug]
                for slug in features
                if slug in self.reference.accessibility_ids
            ],
        )

    def _postal_code(self, rng: random.Random, town: Place) -> str:
        # A code of the area nearest the town, so the office passes the same checks a
        # therapist's own edit would (right province or state, near the town it names). The
        # random draws stay as they were, so a seed still gives the same listings.
        area = area_nearest(
            latitude=town.latitude,
            longitude=town.longitude,
            jurisdiction_code=town.jurisdiction_code,
        )
        if town.country_code == "US":
            drawn = f"{rng.randint(1001, 99950):05d}"
            return area.area_code if area is not None else drawn
        letters = "ABCEGHJKLMNPRSTVWXYZ"
        first = words.CANADIAN_POSTAL_LETTER.get(town.jurisdiction_code, "M")
        fsa = f"{first}{rng.randint(0, 9)}{_pick(rng, letters)}"
        if area is not None and (
            distance_km(area.latitude, area.longitude, town.latitude, town.longitude)
            <= rules.POSTAL_CODE_MAX_KM
        ):
            fsa = area.area_code
        else:
            # No town-sized area close by: the province's nearest rural area ("J0M"), which
            # covers the countryside around small towns.
            rural = area_nearest(
                latitude=town.latitude,
                longitude=town.longitude,
                jurisdiction_code=town.jurisdiction_code,
                rural=True,
            )
            fsa = rural.area_code if rural is not None else fsa
        return f"{fsa} {rng.randint(0, 9)}{_pick(rng, letters)}{rng.randint(0, 9)}"

    def _gender_description(self, gender: str) -> str:
        return {"two_spirit": "Two-Spirit", "non_binary": "Non-binary"}.get(gender, "")

    def _text_fill(
        self,
        rng: random.Random,
        concerns: list[str],
        modalities: list[str],
        populations: list[str],
        years: int,
    ) -> dict[str, object]:
        names = [_in_sentence(self.reference.concern_names[slug]) for slug in concerns]
        names += ["everyday stress", "relationships", "change"]
        modality_names = [_in_sentence(self.reference.modality_names[slug]) for slug in modalities]
        modality_names += ["mindfulness practices"]
        population_words = {
            "individuals": "adults", "couples": "couples", "families": "families",
            "teens": "teens", "children": "children and their parents",
            "older-adults": "older adults",
        }  # fmt: skip
        return {
            "concern_a": names[0],
            "concern_b": names[1],
            "concern_c": names[2],
            "modality_a": modality_names[0],
            "modality_b": modality_names[1],
            "population": population_words.get(populations[0] if populations else "", "adults"),
            "years": max(1, years),
            "previous_field": _pick(rng, words.PREVIOUS_FIELDS),
        }
