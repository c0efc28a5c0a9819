"""Demo care data (`rapport seed_care`): one demo therapist with a sign-in, and seven clients
whose engagements each show one state of the alliance and progress loop:

- **on track**: eight weekly sessions, agreed goals, the alliance rising into its top band and
  the progress check improving by more than measurement noise (a reliable change); the client
  shares item answers;
- **low alliance**: four sessions, the alliance falling into its lowest band and the goals
  rated low twice; the client shares scores only (the default);
- **crisis**: the latest progress check has the critical item at or above its threshold, so an
  unacknowledged crisis alert waits for the therapist; the client shares nothing (the alert
  shows whatever the sharing);
- **just started**: the fit check and progress baseline asked and still open, so the client's
  "answer a check-in" page has something to answer;
- **repaired**: a low alliance check-in raised a low-alliance alert (the client shares scores),
  the therapist acknowledged it with what they did, and the later check-ins recovered;
- **not the right fit**: after a low check-in the client ended the engagement with the one-click
  "this isn't the right fit" (no words needed); the therapist acknowledged the alert afterwards;
- **graduated**: agreed goals, progress reliably better over ten sessions, graduating proposed by
  the therapist, every goal reviewed by both sides, the last progress check answered and the
  client's confirmation.

Everything is written through the care services, with ``now=`` placing each step in the past
(sessions weekly), so every rule of the real flow holds and every answer is encrypted and
audited. The accounts come from the accounts services (a confirmed address); the demo then
gives them one known password, which is what makes them demo sign-ins (README, "Demo data").

Deterministic: the stories' scores are fixed (the demo must show each state for any seed);
the seed picks the therapist among the generated ones, the clients' names, the goals' words,
the session times and how each total is spread over the items. Idempotent: an engagement
between the demo therapist and a demo client is never made twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import time
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.accounts.services import (
    client_account_for_proven_address,
    invited_therapist_account_create,
)
from rapport.care import instruments, selectors
from rapport.care.models import (
    Alert,
    Engagement,
    EngagementStatus,
    GoalReview,
    Purpose,
    SessionStatus,
    Sharing,
    Side,
)
from rapport.care.services import (
    alert_acknowledge,
    check_in_answer,
    engagement_end_not_right_fit,
    engagement_start,
    goal_agree,
    goal_propose,
    goal_reviews_set,
    goals_set,
    graduation_confirm,
    graduation_propose,
    instrument_for_purpose,
    session_record,
    sharing_set,
)
from rapport.directory.models import TherapistProfile
from rapport.directory.selectors import therapist_listing

DEMO_EMAIL_DOMAIN = "example.org"
# Shared by every demo account; shown in the README. The command refuses to run in production.
DEMO_PASSWORD = "rapport-demo-care"  # noqa: S105 (documented; never in production)
THERAPIST_EMAIL = f"care.therapist@{DEMO_EMAIL_DOMAIN}"
# How many of the first generated, listed therapists the seed chooses the demo therapist from.
THERAPIST_CHOICES = 10

_FIRST_NAMES = ("Robin", "Ari", "Noor", "Casey", "Imani", "Mika", "Jules", "Tomás", "Lena", "Dev")
_LAST_NAMES = ("Okoye", "Lindqvist", "Moreau", "Ibrahim", "Park", "Novak", "Reyes", "Dubois")
# Goals as clients write them: their own words, plain and concrete.
_GOALS = (
    "Sleep through most nights again",
    "Stop dreading Monday mornings at work",
    "Call my sister without it turning into a fight",
    "Get back to running twice a week",
    "Say no to extra shifts without feeling guilty",
    "Feel less on edge in crowded places",
    "Finish the course I dropped last spring",
    "Spend one evening a week with friends",
)


@dataclass(frozen=True)
class _Story:
    """One demo engagement. Scores are keyed by the number of attended sessions when the
    check-in was asked (0: at the start), as the schedule asks them (services/checkins.py)."""

    key: str
    sessions: int
    # Days between the last session and ``now`` (or, with no sessions, since it started).
    days_since_last: int
    sharing: str = Sharing.SCORES_ONLY
    goals: int = 0
    # Who agrees to the goals: both sides, the client only, or nobody yet.
    goals_agreed_by: tuple[str, ...] = ()
    fit: int | None = None  # the fit check's total (None: left open)
    # Alliance check-in means and progress check totals, by after_session.
    alliance: Mapping[int, float] = field(default_factory=dict)
    progress: Mapping[int, int] = field(default_factory=dict)
    # Each goal's rating (0–10) with each alliance check-in, by after_session.
    goal_ratings: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    # The answer to each critical item of the progress check, by after_session (default: the
    # lowest answer, below every threshold).
    critical: Mapping[int, int] = field(default_factory=dict)
    # Repair: after the check-in of this attended session, the therapist acknowledges the
    # alerts it raised with ``repair_note`` (what they did), a day after it was answered.
    repair_after: int | None = None
    repair_note: str = ""
    # How it ended, a day or so after the last session's check-in (``days_since_last`` leaves
    # room for it before ``now``): "" (it goes on), or
    # EngagementStatus.ENDED (the client's one-click "this isn't the right fit") or
    # EngagementStatus.GRADUATED (the two-sided flow of services/graduation.py).
    ending: str = ""
    # Graduating: who proposes (the other side confirms), each side's review of each goal, and
    # the last progress check's total.
    graduation_proposed_by: str = ""
    goal_reviews: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    final_progress: int | None = None

    @property
    def email(self) -> str:
        return f"care.{self.key}@{DEMO_EMAIL_DOMAIN}"


STORIES = (
    _Story(
        key="on-track",
        sessions=8,
        days_since_last=3,
        sharing=Sharing.ITEM_ANSWERS,
        goals=2,
        goals_agreed_by=(Side.CLIENT, Side.THERAPIST),
        fit=17,
        alliance={1: 3.5, 2: 3.8, 3: 4.2, 4: 4.5, 8: 4.8},
        progress={0: 7, 2: 9, 4: 11, 6: 14, 8: 17},
        goal_ratings={1: (3, 2), 2: (4, 3), 3: (5, 5), 4: (6, 6), 8: (8, 7)},
    ),
    _Story(
        key="low-alliance",
        sessions=4,
        days_since_last=4,
        goals=2,
        goals_agreed_by=(Side.CLIENT,),
        fit=13,
        alliance={1: 3.7, 2: 3.0, 3: 2.5, 4: 2.0},
        progress={0: 8, 2: 8, 4: 7},
        goal_ratings={1: (4, 3), 2: (3, 3), 3: (2, 1), 4: (1, 1)},
    ),
    _Story(
        key="crisis",
        sessions=2,
        days_since_last=2,
        sharing=Sharing.NOTHING,
        goals=1,
        goals_agreed_by=(Side.CLIENT, Side.THERAPIST),
        fit=16,
        alliance={1: 3.8, 2: 3.7},
        progress={0: 9, 2: 6},
        goal_ratings={1: (3,), 2: (2,)},
        critical={2: 2},
    ),
    _Story(key="just-started", sessions=0, days_since_last=0),
    _Story(
        key="repaired",
        sessions=5,
        days_since_last=2,
        goals=2,
        goals_agreed_by=(Side.CLIENT, Side.THERAPIST),
        fit=15,
        # Down into the lowest band after session 2 (not by more than noise, so the alert is
        # the low alliance alone), back into "working well" once it was talked about.
        alliance={1: 3.0, 2: 2.3, 3: 3.3, 4: 3.8},
        progress={0: 8, 2: 8, 4: 10},
        goal_ratings={1: (3, 3), 2: (3, 4), 3: (4, 5), 4: (6, 6)},
        repair_after=2,
        repair_note=(
            "Read it the day after and opened our next session with it: they felt rushed "
            "into homework. We agreed to start each session with what matters most that week "
            "and to check at the end how the session felt."
        ),
    ),
    _Story(
        key="not-right-fit",
        sessions=2,
        days_since_last=5,
        goals=1,
        goals_agreed_by=(Side.CLIENT, Side.THERAPIST),
        fit=12,
        alliance={1: 2.8, 2: 2.2},
        progress={0: 8, 2: 7},
        goal_ratings={1: (3,), 2: (2,)},
        repair_after=2,
        # Written after the ending (the alert was raised the day before it).
        repair_note=(
            "They ended our work the day after this check-in, before we could talk about it. "
            "Nothing to repair now; noted for myself to ask about fit earlier."
        ),
        ending=EngagementStatus.ENDED,
    ),
    _Story(
        key="graduated",
        sessions=10,
        days_since_last=6,
        goals=2,
        goals_agreed_by=(Side.CLIENT, Side.THERAPIST),
        fit=17,
        alliance={1: 3.6, 2: 3.9, 3: 4.1, 4: 4.3, 8: 4.6},
        # Reliably better than the baseline by the 6th session (so no off-track alert).
        progress={0: 6, 2: 8, 4: 10, 6: 13, 8: 15, 10: 16},
        goal_ratings={1: (3, 2), 2: (4, 3), 3: (5, 4), 4: (6, 5), 8: (9, 7)},
        ending=EngagementStatus.GRADUATED,
        graduation_proposed_by=Side.THERAPIST,
        goal_reviews={
            Side.THERAPIST: (GoalReview.MET, GoalReview.PARTLY),
            Side.CLIENT: (GoalReview.MET, GoalReview.PARTLY),
        },
        final_progress=17,
    ),
)


class CareSeedError(Exception):
    """The demo cannot be built as asked (no generated therapist, an address already taken)."""


@dataclass(frozen=True)
class CareSeedResult:
    therapist_email: str
    therapist_name: str
    created: tuple[str, ...]  # the stories written by this run
    already_present: tuple[str, ...]  # the stories found from an earlier run
    seconds: float


def _demo_therapist(*, rng: random.Random, now: dt.datetime) -> TherapistProfile:
    """The profile behind the demo therapist's sign-in: found again by the address, or a
    generated therapist (listed, if any is) given a new account with that address."""
    existing = (
        TherapistProfile.objects.filter(user__email__iexact=THERAPIST_EMAIL)
        .select_related("user")
        .first()
    )
    if existing is not None:
        return existing
    user = _account(THERAPIST_EMAIL)
    if user is not None and user.role != Role.THERAPIST:
        raise CareSeedError(f"{THERAPIST_EMAIL} belongs to an account that is not a therapist's.")
    generated = TherapistProfile.objects.filter(seed_key__isnull=False, user__isnull=True)
    candidates = list(
        therapist_listing(now=now)
        .filter(seed_key__isnull=False, user__isnull=True)
        .order_by("seed_key")[:THERAPIST_CHOICES]
    ) or list(generated.order_by("seed_key")[:THERAPIST_CHOICES])
    if not candidates:
        raise CareSeedError(
            "No generated therapist to show the care demo with: run `rapport seed` first."
        )
    therapist = rng.choice(candidates)
    if user is None:
        user = invited_therapist_account_create(email=THERAPIST_EMAIL, name=therapist.display_name)
        _give_demo_password(user)
    # As an import attaches a listing to its invited account (directory.importing.writing).
    therapist.user = user
    therapist.save(update_fields=["user"])
    return therapist


def _account(address: str) -> User | None:
    # LOWER(email) = …, which the case-insensitive unique index answers (as accounts does).
    found: User | None = User.objects.alias(key=Lower("email")).filter(key=address).first()
    return found


def _give_demo_password(user: User) -> None:
    # The accounts services leave new accounts without a usable password (the person sets
    # one); a demo sign-in needs a known one. Only ever on an account this seeding created.
    user.password = _demo_password_hash()
    user.save(update_fields=["password"])


@functools.cache
def _demo_password_hash() -> str:
    # Hashed once per process: the password hasher is slow by design.
    return make_password(DEMO_PASSWORD)


def _client(story: _Story, name: str) -> User:
    existing = _account(story.email)
    if existing is not None:
        return existing
    user = client_account_for_proven_address(email=story.email, name=name)
    _give_demo_password(user)
    return user


def _spread(total: int, count: int, low: int, high: int, rng: random.Random) -> list[int]:
    """``count`` values from ``low`` to ``high`` summing to ``total``, as even as possible with
    one random nudge, so item answers vary without changing the score."""
    base, extra = divmod(total, count)
    values = [base + (1 if index < extra else 0) for index in range(count)]
    rng.shuffle(values)
    up, down = rng.sample(range(count), 2)
    if values[up] < high and values[down] > low:
        values[up] += 1
        values[down] -= 1
    return values


def _answers(
    instrument: instruments.Instrument,
    *,
    total: float,
    critical: int | None,
    rng: random.Random,
) -> dict[str, int]:
    """Item answers that score to ``total`` (a mean for mean-scored instruments); every
    critical item answered ``critical`` (default: the lowest answer)."""
    scored = [item for item in instrument.items if item.scored]
    wanted = round(total * len(scored)) if instrument.method == "mean" else round(total)
    values = _spread(wanted, len(scored), instrument.response_min, instrument.response_max, rng)
    reverse_sum = instrument.response_min + instrument.response_max
    answers = {
        item.id: reverse_sum - value if item.reverse_scored else value
        for item, value in zip(scored, values, strict=True)
    }
    for rule in instrument.critical_items:
        answers[rule.item_id] = instrument.response_min if critical is None else critical
    return answers


def _session_times(
    story: _Story, *, therapist: TherapistProfile, rng: random.Random, now: dt.datetime
) -> list[dt.datetime]:
    """Weekly sessions at one local hour of the therapist's, the last ``days_since_last``
    days before ``now``."""
    zone = zoneinfo.ZoneInfo(therapist.time_zone)
    last_day = (now - dt.timedelta(days=story.days_since_last)).astimezone(zone).date()
    hour = rng.choice((9, 10, 11, 13, 14, 15, 16, 17))
    return [
        dt.datetime.combine(
            last_day - dt.timedelta(weeks=story.sessions - number), dt.time(hour), tzinfo=zone
        ).astimezone(dt.UTC)
        for number in range(1, story.sessions + 1)
    ]


def _answer_open(
    story: _Story,
    engagement: Engagement,
    *,
    at: dt.datetime,
    rng: random.Random,
    final: bool = False,
) -> None:
    """The client answers the open check-in with the story's scores for it (``final``: the last
    progress check of a graduation, which repeats the last session's number)."""
    check_in = selectors.engagement_open_check_in(engagement=engagement, now=at)
    if check_in is None:
        return
    after = check_in.after_session
    answers: dict[str, dict[str, int]] = {}
    for part in check_in.parts.all():
        instrument = selectors.instrument_of(part.instrument)
        if part.purpose == Purpose.FIT:
            total: float | None = story.fit
        elif part.purpose == Purpose.ALLIANCE:
            total = story.alliance.get(after)
        elif final:
            total = story.final_progress
        else:
            total = story.progress.get(after)
        if total is None:
            raise CareSeedError(f"The {story.key} story gives no {part.purpose} score at {after}.")
        answers[part.purpose] = _answers(
            instrument, total=total, critical=story.critical.get(after), rng=rng
        )
    ratings: dict[str, int] = {}
    if check_in.goal_ratings:
        asked = json.loads(check_in.goal_ratings)["goals"]
        given = story.goal_ratings.get(after, ())
        ratings = {
            str(goal["position"]): rating for goal, rating in zip(asked, given, strict=False)
        }
    check_in_answer(check_in=check_in, answers=answers, goal_ratings=ratings, now=at)


def _tell(
    story: _Story,
    *,
    therapist: TherapistProfile,
    client: User,
    rng: random.Random,
    now: dt.datetime,
) -> Engagement:
    """Write one story through the services, each step at its own moment in the past."""
    sessions = _session_times(story, therapist=therapist, rng=rng, now=now)
    if sessions:
        # The consultation the week before the first session; the fit check follows it.
        started = sessions[0] - dt.timedelta(days=6)
    else:
        started = now - dt.timedelta(hours=rng.randint(2, 5))
    engagement = engagement_start(therapist=therapist, client=client, now=started)
    settled = started + dt.timedelta(hours=rng.randint(18, 30))
    if story.sharing != Sharing.SCORES_ONLY:
        sharing_set(engagement=engagement, sharing=story.sharing, now=settled)
    if story.goals:
        goals = goals_set(engagement=engagement, texts=rng.sample(_GOALS, story.goals), now=started)
        for goal in goals:
            for side in story.goals_agreed_by:
                goal_agree(goal=goal, by=side, now=settled)
        if Side.THERAPIST not in story.goals_agreed_by:
            # The therapist has not agreed yet, and suggested other words for the first goal.
            goal_propose(goal=goals[0], text=f"{goals[0].text}, one small step at a time")
    if story.fit is not None:
        _answer_open(story, engagement, at=settled, rng=rng)
    answered = started
    for number, starts_at in enumerate(sessions, start=1):
        session_record(
            engagement=engagement,
            starts_at=starts_at,
            status=SessionStatus.ATTENDED,
            recorded_by=therapist.user,
            now=starts_at + dt.timedelta(hours=1),
        )
        # A few hours to a day later, and never after ``now``.
        answered = min(
            starts_at + dt.timedelta(hours=rng.randint(3, 30)), now - dt.timedelta(minutes=30)
        )
        _answer_open(story, engagement, at=answered, rng=rng)
        if number == story.repair_after and story.ending != EngagementStatus.ENDED:
            _repair(story, engagement, by=therapist, at=answered + dt.timedelta(days=1))
    if story.ending == EngagementStatus.ENDED:
        # The client's one click the day after the low check-in, without words (the service
        # stores the choice's own label); the therapist reads the alert after that.
        ended = answered + dt.timedelta(days=1)
        engagement_end_not_right_fit(engagement=engagement, by=Side.CLIENT, now=ended)
        _repair(story, engagement, by=therapist, at=ended + dt.timedelta(hours=5))
    elif story.ending == EngagementStatus.GRADUATED:
        _graduate(story, engagement, after=answered, rng=rng)
    return engagement


def _repair(
    story: _Story, engagement: Engagement, *, by: TherapistProfile, at: dt.datetime
) -> None:
    """The therapist acknowledges every open alert of the engagement with what they did."""
    if by.user is None:  # the demo therapist always has the sign-in made above
        raise CareSeedError("The demo therapist has no account to acknowledge alerts with.")
    for alert in Alert.objects.filter(engagement=engagement, acknowledged_at__isnull=True):
        alert_acknowledge(alert=alert, by=by.user, note=story.repair_note, now=at)


def _graduate(
    story: _Story, engagement: Engagement, *, after: dt.datetime, rng: random.Random
) -> None:
    """Two days after the last check-in one side proposes graduating (which asks the last
    progress check); both review every goal; the next day the client answers the last check
    and the other side confirms."""
    proposer = story.graduation_proposed_by
    other = Side.CLIENT if proposer == Side.THERAPIST else Side.THERAPIST
    proposed = after + dt.timedelta(days=2)
    graduation_propose(engagement=engagement, by=proposer, now=proposed)
    goals = list(engagement.goals.order_by("position"))
    # The reviews carry no moment of their own (the engagement's dates tell the story).
    for side in (proposer, other):
        reviews = zip(goals, story.goal_reviews[side], strict=True)
        goal_reviews_set(
            engagement=engagement,
            by=side,
            reviews={str(goal.position): review for goal, review in reviews},
        )
    agreed = proposed + dt.timedelta(days=1, hours=rng.randint(0, 6))
    _answer_open(story, engagement, at=agreed, rng=rng, final=True)
    graduation_confirm(engagement=engagement, by=other, now=agreed + dt.timedelta(minutes=10))


def seed_care(*, seed: int, now: dt.datetime | None = None) -> CareSeedResult:
    """Give the demo therapist (``THERAPIST_EMAIL``) the seven demo engagements, each with its
    client's account (``care.<story>@example.org``), unless it exists already.

    Side effects: may create the therapist's account on a generated therapist's profile and the
    clients' accounts (confirmed addresses, the demo password); engagements, goals, sessions,
    check-ins, answers and scores (encrypted), one crisis alert, score alerts (two stories'
    acknowledged), an engagement ended for fit and a graduated one, each story in its own
    transaction. Queues what the services queue on commit: the e-mails asking the clients for
    check-ins and the alert's e-mail to the therapist (demo addresses).
    Raises CareSeedError when there is no generated therapist (run `rapport seed` first).
    """
    started = time.perf_counter()
    now = now or timezone.now()
    rng = random.Random(f"care:{seed}")
    # Loaded (or installed) before anything is written, so a broken setting stops the run early.
    for purpose in Purpose.values:
        instrument_for_purpose(purpose)
    with transaction.atomic():
        therapist = _demo_therapist(rng=rng, now=now)
    # Different first and last names, so the therapist's list tells the clients apart; drawn
    # from their own generator, so a rerun names a missing client as the first run did.
    name_rng = random.Random(f"care:{seed}:names")
    names = [
        f"{first} {last}"
        for first, last in zip(
            name_rng.sample(_FIRST_NAMES, len(STORIES)),
            name_rng.sample(_LAST_NAMES, len(STORIES)),
            strict=True,
        )
    ]
    created = []
    present = []
    for story, name in zip(STORIES, names, strict=True):
        # Each story draws from its own generator: an existing one leaves the others unchanged.
        story_rng = random.Random(f"care:{seed}:{story.key}")
        with transaction.atomic():
            client = _client(story, name)
            if Engagement.objects.filter(client=client, therapist=therapist).exists():
                present.append(story.key)
                continue
            _tell(story, therapist=therapist, client=client, rng=story_rng, now=now)
            created.append(story.key)
    return CareSeedResult(
        therapist_email=THERAPIST_EMAIL,
        therapist_name=therapist.display_name,
        created=tuple(created),
        already_present=tuple(present),
        seconds=time.perf_counter() - started,
    )
