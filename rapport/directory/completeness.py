"""How complete a therapist's profile is, what is missing and why it matters to clients, and
the state of the listing in words with the one action that changes it.

The minimum a listing needs (``Completeness.meets_minimum``) is checked when the therapist sends
the profile for review, and every onboarding step refuses to save a change that would fall
below it, so a verified listing always meets it. The README ("Therapists joining") names it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from rapport.directory.models import TherapistProfile, VerificationStatus
from rapport.directory.selectors import is_listed

# A bio shorter than this reads as a placeholder; two or three sentences pass.
ABOUT_MIN_CHARS = 150

# Onboarding steps whose fields all have defaults: done only once the therapist saved them.
MARKED_STEPS = ("style", "where", "contact", "availability", "videos", "preview")


def step_saved(therapist: TherapistProfile, step: str) -> bool:
    """Saved in the wizard, or the profile was sent for review some other way (staff, import,
    seeding) and so its values are answers, not defaults."""
    return step in therapist.onboarding_steps_saved or therapist.submitted_for_review_at is not None


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    why: str  # why it matters to clients, in their terms
    step: str  # the onboarding step that fills it
    required: bool
    done: Callable[[TherapistProfile], bool]


def _has(relation: str) -> Callable[[TherapistProfile], bool]:
    return lambda therapist: getattr(therapist, relation).exists()


def _where_done(therapist: TherapistProfile) -> bool:
    if not step_saved(therapist, "where"):
        return False
    return not therapist.offers_in_person or therapist.offices.exists()


ITEMS: tuple[Item, ...] = (
    Item(
        "headline",
        "A headline",
        "It is the one line clients read about you in search results.",
        "about",
        True,
        lambda t: bool(t.headline.strip()),
    ),
    Item(
        "about",
        f"About you, in at least {ABOUT_MIN_CHARS} characters",
        "Clients choose someone they feel they could talk to; your own words are how they tell.",
        "about",
        True,
        lambda t: len(t.about.strip()) >= ABOUT_MIN_CHARS,
    ),
    Item(
        "first_session",
        "What a first session with you looks like",
        "Not knowing what will happen is a common reason people put off a first appointment.",
        "about",
        True,
        lambda t: bool(t.first_session.strip()),
    ),
    Item(
        "photo",
        "A photo",
        "Seeing who they will talk to makes it easier for clients to reach out.",
        "about",
        False,
        lambda t: bool(t.photo),
    ),
    Item(
        "licence",
        "Your licence",
        "Clients only see therapists whose licence we verified, in the places it covers.",
        "licence",
        True,
        _has("licences"),
    ),
    Item(
        "concerns",
        "What you help with",
        "Most clients search by what they want help with; without it you appear in none.",
        "topics",
        True,
        _has("concerns"),
    ),
    Item(
        "modalities",
        "Your approaches",
        "Clients who have tried therapy before often look for an approach by name.",
        "topics",
        True,
        _has("modalities"),
    ),
    Item(
        "populations",
        "Who you work with",
        "Couples, families and parents of teens search for someone who sees people like them.",
        "topics",
        True,
        _has("populations"),
    ),
    Item(
        "languages",
        "Languages you work in",
        "Many clients can only talk about what hurts in their first language.",
        "topics",
        True,
        _has("languages"),
    ),
    Item(
        "style",
        "How you work",
        "Clients compare styles to find someone whose way of working suits them.",
        "style",
        True,
        lambda t: step_saved(t, "style"),
    ),
    Item(
        "fees",
        "Your fee",
        "Cost is the first thing most clients check; a listing without it gets passed over.",
        "fees",
        True,
        lambda t: t.fee_minor > 0,
    ),
    Item(
        "where",
        "Where you meet clients",
        "Clients filter by in person, video or phone, and by distance to your office.",
        "where",
        True,
        _where_done,
    ),
    Item(
        "contact",
        "Contact between sessions",
        "Knowing when you answer, and how, sets expectations before the first session.",
        "contact",
        True,
        lambda t: step_saved(t, "contact"),
    ),
    Item(
        "availability",
        "Free consultation times",
        "Clients can book a first conversation from your profile without waiting for a reply.",
        "availability",
        False,
        lambda t: t.next_consultation_at is not None,
    ),
    Item(
        "video",
        "A video introduction",
        "Hearing your voice helps clients decide whether to reach out.",
        "videos",
        False,
        lambda t: t.has_video_introduction,
    ),
)


@dataclass(frozen=True)
class Missing:
    key: str
    label: str
    why: str
    step: str
    required: bool


@dataclass(frozen=True)
class Completeness:
    percent: int
    missing: list[Missing]
    meets_minimum: bool

    @property
    def missing_required(self) -> list[Missing]:
        return [item for item in self.missing if item.required]

    @property
    def missing_optional(self) -> list[Missing]:
        return [item for item in self.missing if not item.required]


def profile_completeness(*, therapist: TherapistProfile) -> Completeness:
    """Each item of ``ITEMS`` counts the same toward the percentage; ``meets_minimum`` is every
    required item done (a fixed number of small queries: one existence check per relation)."""
    missing = [
        Missing(
            key=item.key, label=item.label, why=item.why, step=item.step, required=item.required
        )
        for item in ITEMS
        if not item.done(therapist)
    ]
    done = len(ITEMS) - len(missing)
    return Completeness(
        percent=round(100 * done / len(ITEMS)),
        missing=missing,
        meets_minimum=not any(item.required for item in missing),
    )


# --- the listing's state -----------------------------------------------------------------------


@dataclass(frozen=True)
class ListingState:
    """Where the listing stands. ``code`` is one of draft, pending_review, live, paused,
    not_accepting, declined; ``action_url_name`` names a page without arguments ("" when
    there is nothing the therapist can do but wait)."""

    code: str
    sentence: str
    action_label: str = ""
    action_url_name: str = ""

    @property
    def action(self) -> tuple[str, str] | None:
        if not self.action_url_name:
            return None
        return (self.action_label, self.action_url_name)


def is_draft(therapist: TherapistProfile) -> bool:
    return (
        therapist.verification_status == VerificationStatus.PENDING
        and therapist.submitted_for_review_at is None
    )


def listing_state(*, therapist: TherapistProfile, now: dt.datetime | None = None) -> ListingState:
    """Most blocking first. While the licence is not verified nothing here says the listing
    shows the therapist as accepting: they would wait for clients who cannot find them."""
    now = now or timezone.now()
    status = therapist.verification_status
    if is_draft(therapist):
        return ListingState(
            code="draft",
            sentence=(
                "Your profile is a draft: clients cannot see it. Finish it and send it for "
                "review; we then check your licence."
            ),
            action_label="Continue your profile",
            action_url_name="directory:practice_profile",
        )
    if status == VerificationStatus.PENDING:
        return ListingState(
            code="pending_review",
            sentence=(
                "Your licence is being checked. Clients cannot see your listing until it is "
                "verified; you will get an e-mail when that is done."
            ),
            action_label="Preview your profile",
            action_url_name="directory:practice_profile_preview",
        )
    if status in (VerificationStatus.REJECTED, VerificationStatus.SUSPENDED):
        what = "could not be verified" if status == VerificationStatus.REJECTED else "is suspended"
        reason = therapist.verification_reason.strip()
        return ListingState(
            code="declined",
            sentence=(
                f"Your licence {what}, so clients cannot see your listing."
                + (f" The reviewer wrote: “{reason}”" if reason else "")
            ),
            action_label="Correct your licence details",
            action_url_name="directory:practice_profile_licence",
        )
    if not therapist.is_listed:
        return ListingState(
            code="paused",
            sentence="You have hidden your listing, so clients cannot find you.",
            action_label="Show your listing again",
            action_url_name="directory:practice_profile",
        )
    if not therapist.accepting_new_clients:
        return ListingState(
            code="not_accepting",
            sentence=(
                "You said you are not accepting new clients, so your listing is hidden from "
                "search. Your current clients are not affected."
            ),
            action_label="Say you are accepting again",
            action_url_name="booking:practice_listing",
        )
    if not is_listed(therapist, now=now):
        return ListingState(
            code="paused",
            sentence=(
                "Your listing is paused: confirm that you are still accepting new clients "
                f"(we ask every {settings.LISTING_FRESHNESS_DAYS} days) and it shows in "
                "search again."
            ),
            action_label="Confirm you are accepting new clients",
            action_url_name="booking:practice_listing",
        )
    return ListingState(
        code="live",
        sentence="Your listing is live: clients can find you and book a free consultation.",
        action_label="Preview your profile",
        action_url_name="directory:practice_profile_preview",
    )
