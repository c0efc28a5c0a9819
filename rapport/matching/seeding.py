"""Demo fit profiles (`rapport seed_matching`): the care demo's seven clients
(``rapport.care.seeding.STORIES``) each get the fit profile they might have filled in before
their first consultation, so that

- signing in as one of them and opening "Find my match" shows a ranked list with its reasons
  (leaving out the demo therapist, whom they have all worked with);
- the client who ended their engagement as not the right fit has said what did not fit (a few
  taps, through the same service as the re-match page), so their list leans away from it;
- `rapport retrain_matcher`, run next by `make demo`, finds a fit profile behind every demo
  check-in history and turns the early answers into outcomes the learned component trains on.

Each client's place is where the demo therapist practises (their first office, or the largest
town of the province or state they are licensed in), so the lists are about the same area.

The answers are fixed (the stories' own words, written for the demo); only the place follows
the therapist the care demo chose. Idempotent: a client who has a fit profile keeps it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from rapport.accounts.models import User
from rapport.care.seeding import STORIES, THERAPIST_EMAIL
from rapport.core.geo import PlaceNotFound, geocode, served_cities
from rapport.directory.models import Licence, Office, TherapistProfile
from rapport.matching import selectors, services, terms
from rapport.matching.answers import Availability, FitAnswers, MisfitReason, answers_from_data
from rapport.matching.models import FitProfile

# Story key -> the answers, as the questionnaire stores them (the place is added per run).
# Style placements are 1-5 between each dimension's poles (directory.models.STYLE_DIMENSIONS).
PROFILES: Mapping[str, Mapping[str, Any]] = {
    "on-track": {
        "story": (
            "Work has doubled since the merger and I lie awake going over tomorrow's emails. "
            "I snap at my partner over nothing and then feel terrible about it."
        ),
        "hopes": "Sleep most nights, and leave work at work by seven.",
        "concerns": ["stress", "sleep", "workplace"],
        "style": {"style_structure": 2, "style_direction": 2, "style_time_focus": 1},
        "budget_per_session": 160,
        "sessions_affordable": 12,
        "availability": [Availability.WEEKDAY_EVENING],
        "delivery": ["video"],
    },
    "low-alliance": {
        "story": (
            "My relationship of nine years ended in the spring. Most days I go through the "
            "motions and cancel on friends at the last minute."
        ),
        "hopes": "To want to see people again, and to stop replaying what went wrong.",
        "concerns": ["depression", "relationships", "divorce"],
        "preferences": {"gender": {"weight": 2, "values": ["woman"]}},
        "style": {"style_challenge": 2, "style_structure": 4},
        "budget_per_session": 120,
        "sessions_affordable": 8,
        "availability": [Availability.WEEKDAY_EVENING, Availability.WEEKEND],
        "delivery": ["video", "phone"],
    },
    "crisis": {
        "story": (
            "My brother died last year and everyone expects me to be past it by now. Some "
            "nights are very dark and I don't know who to talk to."
        ),
        "hopes": "Somewhere I can say how bad it gets without scaring anyone.",
        "concerns": ["grief", "depression"],
        "preferences": {"lived_experience": {"weight": 2, "values": ["bereavement"]}},
        "style": {"style_challenge": 1, "style_direction": 4},
        "budget_per_session": 100,
        "availability": [Availability.WEEKDAY_AFTERNOON, Availability.WEEKDAY_EVENING],
    },
    "just-started": {
        "story": (
            "I moved here for my master's two years ago. My English is good but I think in "
            "Spanish when I'm upset, and I feel like a guest everywhere."
        ),
        "hopes": "Feel at home somewhere, and stop panicking before seminars.",
        "concerns": ["immigration", "social-anxiety", "life-transitions"],
        "preferences": {
            "language": {"weight": 2, "values": ["es"]},
            "lived_experience": {"weight": 1, "values": ["immigration", "first-generation"]},
        },
        "style": {"style_direction": 3, "style_humour": 4},
        "budget_per_session": 90,
        "sessions_affordable": 10,
        "availability": [Availability.WEEKDAY_MORNING, Availability.WEEKEND],
        "delivery": ["video"],
    },
    "repaired": {
        "story": (
            "Three panic attacks on the subway since January. Now I take two buses to avoid "
            "it and leave an hour early for everything."
        ),
        "hopes": "Ride the subway to work again, even on a bad day.",
        "concerns": ["panic", "anxiety"],
        "style": {"style_structure": 1, "style_direction": 2, "style_time_focus": 1},
        "budget_per_session": 180,
        "sessions_affordable": 10,
        "availability": [Availability.WEEKDAY_MORNING],
        "delivery": ["in_person", "video"],
    },
    "not-right-fit": {
        "story": (
            "I second-guess every decision at work and apologise for things that aren't my "
            "fault. My manager says I'm doing fine; it never feels like it."
        ),
        "hopes": "Trust my own judgement, and speak up in meetings.",
        "concerns": ["self-esteem", "workplace", "anxiety"],
        "style": {"style_challenge": 3},
        "budget_per_session": 140,
        "sessions_affordable": 12,
        "availability": [Availability.WEEKDAY_EVENING],
        "delivery": ["video"],
    },
    "graduated": {
        "story": (
            "Our daughter is four months old. I love her, and I also feel like I've "
            "disappeared. We're a two-mom family and I want that to be a given, not a topic."
        ),
        "hopes": "Feel like a person again, not only a parent.",
        "concerns": ["perinatal", "parenting", "sleep"],
        "preferences": {
            "lgbtq2s_affirming": {"weight": 3},
            "lived_experience": {"weight": 1, "values": ["parenthood"]},
        },
        "style": {"style_challenge": 2, "style_humour": 4},
        "budget_per_session": 150,
        "sessions_affordable": 10,
        "availability": [Availability.WEEKDAY_AFTERNOON],
        "delivery": ["video"],
    },
}
# What the client who ended as not the right fit said did not fit, on the re-match page.
NOT_RIGHT_FIT_REASONS = (MisfitReason.TOO_DIRECTIVE, MisfitReason.GOALS_DISAGREED)


class MatchingSeedError(Exception):
    """The demo cannot be built as asked (the care demo is missing)."""


@dataclass(frozen=True)
class MatchingSeedResult:
    created: tuple[str, ...]  # stories whose client got a fit profile in this run
    already_present: tuple[str, ...]  # stories whose client had one
    place: str
    seconds: float


def _account(address: str) -> User | None:
    found: User | None = User.objects.alias(key=Lower("email")).filter(key=address).first()
    return found


def demo_place(therapist: TherapistProfile) -> str:
    """Where the demo clients look: the therapist's first office's town, else the largest town
    of the first province or state they are licensed in; "" when neither can be found."""
    office = Office.objects.filter(therapist=therapist).order_by("pk").first()
    candidates = []
    if office is not None:
        candidates.append(f"{office.city}, {office.jurisdiction_id[3:]}")
    licence = Licence.objects.filter(therapist=therapist).order_by("pk").first()
    if licence is not None:
        towns = [
            place for place in served_cities() if place.jurisdiction_code == licence.jurisdiction_id
        ]
        if towns:
            candidates.append(max(towns, key=lambda place: place.population).label)
    for candidate in candidates:
        try:
            geocode(candidate)
        except PlaceNotFound:
            continue
        return candidate
    return ""


def demo_answers(key: str, *, place: str) -> FitAnswers:
    """The story's answers through the one validator (so the demo holds nothing the
    questionnaire would refuse)."""
    document = {**PROFILES[key], "place": place}
    return answers_from_data(document, term_slugs=terms.active_slugs())


def seed_matching(*, now: dt.datetime | None = None) -> MatchingSeedResult:
    """Give each care demo client without a fit profile the story's profile, and the client
    who ended as not the right fit the re-match taps.

    Side effects: fit profiles (encrypted, audited); for the not-right-fit client, the reasons
    in their profile and the ended engagement as an outcome of the newest model version, if
    there is one (``services.misfit_feedback_record``). Each client in its own transaction.
    Raises MatchingSeedError when the care demo has not been seeded (run `rapport seed_care`).
    """
    started = time.perf_counter()
    now = now or timezone.now()
    therapist = TherapistProfile.objects.filter(user__email__iexact=THERAPIST_EMAIL).first()
    if therapist is None:
        raise MatchingSeedError("No care demo to add fit profiles to: run `rapport seed_care`.")
    place = demo_place(therapist)
    created: list[str] = []
    present: list[str] = []
    for story in STORIES:
        client = _account(story.email)
        if client is None:
            raise MatchingSeedError(
                f"The care demo has no client {story.email}: run `rapport seed_care`."
            )
        with transaction.atomic():
            if FitProfile.objects.filter(owner=client).exists():
                present.append(story.key)
                continue
            services.fit_profile_save(
                owner=client, answers=demo_answers(story.key, place=place), now=now
            )
            for engagement in selectors.misfit_engagements(user=client):
                services.misfit_feedback_record(
                    owner=client, engagement=engagement, reasons=NOT_RIGHT_FIT_REASONS, now=now
                )
            created.append(story.key)
    return MatchingSeedResult(
        created=tuple(created),
        already_present=tuple(present),
        place=place,
        seconds=time.perf_counter() - started,
    )
