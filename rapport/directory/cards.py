"""Result cards: what a search result or a shortlist shows about each therapist.

Read with plain SQL (``rapport.core.rawsql``) into plain values rather than model instances:
a page of 20 cards through the ORM (profiles, designations, licences with their places,
offices and concerns, with prefetching) cost about 11 ms of CPU, of which the SQL itself was
under 1 ms. Every phrase comes from ``rapport.directory.display``, as on the profile page.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapport.core.models import Jurisdiction
from rapport.core.money import format_money
from rapport.core.rawsql import as_utc, as_uuid, fetch_rows, placeholders
from rapport.directory import display
from rapport.directory.models import (
    DELIVERY_MODES,
    Concern,
    Designation,
    Licence,
    Office,
    TherapistProfile,
    therapist_photo_url,
)
from rapport.directory.selectors import current_licence_sql, is_listed_values

# Booking sits above the directory, so a card cannot name booking's page itself: booking
# registers how to reach its page for a therapist (``register_consultation_link``, in its
# ``AppConfig.ready()``), as it does for the profile page (``profile_parts``).
ConsultationLink = Callable[[uuid.UUID], str]
_consultation_link: list[ConsultationLink] = []


def register_consultation_link(link: ConsultationLink) -> None:
    """Registering again replaces the earlier link."""
    _consultation_link[:] = [link]


def consultation_link(public_id: uuid.UUID) -> str:
    """Where to book a free consultation with this therapist, or "" with no booking app."""
    return _consultation_link[0](public_id) if _consultation_link else ""


@dataclass(frozen=True)
class ResultCard:
    """One therapist as directory/_therapist_card.html shows them."""

    id: int
    public_id: uuid.UUID
    display_name: str
    pronouns: str
    initials: str
    photo_url: str | None
    headline: str
    designation_code: str
    designation_name: str
    licensed_in: str  # "Licensed in Ontario and Quebec", or ""
    has_video_introduction: bool
    has_captioned_video: bool
    concerns: list[str]  # names, in display order
    fee: str  # "CA$150"
    sliding_scale_from: str | None
    delivery: str  # "In person and video"
    location: str  # first office's city, "Virtual only", or ""
    experience: str  # "9 years in practice"
    next_consultation: str  # "" when none is known
    book_url: str = ""  # booking's page, for a therapist who offers a free consultation


def result_cards_by_id(*, ids: Sequence[int], now: dt.datetime) -> dict[int, ResultCard]:
    """Cards of the given therapists that are still listed at ``now``, by id, in four
    statements whatever the number.

    The engine's index may be a moment older than the rows (a listing hidden since), so the
    listing rule is applied again (``selectors.is_listed_values``), in Python, to rows looked up
    by primary key alone: in SQL it cost more than the search, as without table statistics
    SQLite answers "these 20 ids, and listed" by walking the listing index over every listed
    therapist.
    """
    if not ids:
        return {}
    in_ids = placeholders(len(ids))
    profile, designation = TherapistProfile._meta.db_table, Designation._meta.db_table
    rows = fetch_rows(
        "SELECT p.id, p.public_id, p.display_name, p.pronouns, p.photo, p.headline, d.code,"  # noqa: S608
        " d.name, p.practice_start_year, p.fee_minor, p.currency, p.sliding_scale_min_minor,"
        " p.offers_in_person, p.offers_video, p.offers_phone, p.has_video_introduction,"
        " p.has_captioned_video, p.next_consultation_at, p.time_zone, p.verification_status,"
        " p.is_listed, p.accepting_new_clients, p.accepting_confirmed_at, p.consultation_minutes"
        f" FROM {profile} p JOIN {designation} d ON d.id = p.designation_id"
        f" WHERE p.id IN ({in_ids})",
        ids,
    )
    listed = [
        row
        for row in rows
        if is_listed_values(
            verification_status=row[19],
            is_listed=bool(row[20]),
            accepting_new_clients=bool(row[21]),
            accepting_confirmed_at=as_utc(row[22]),
            now=now,
        )
    ]
    if not listed:
        return {}
    listed_ids = [row[0] for row in listed]
    in_listed = placeholders(len(listed_ids))

    licensed: dict[int, list[str]] = {therapist_id: [] for therapist_id in listed_ids}
    for therapist_id, name in fetch_rows(
        f"SELECT l.therapist_id, j.name FROM {Licence._meta.db_table} l"  # noqa: S608
        f" JOIN {Jurisdiction._meta.db_table} j ON j.code = l.jurisdiction_id"
        f" WHERE l.therapist_id IN ({in_listed}) AND {current_licence_sql('l')}"
        " ORDER BY j.name, l.id",
        [*listed_ids, now.date()],
    ):
        licensed[therapist_id].append(name)

    first_city: dict[int, str] = {}
    for therapist_id, city in fetch_rows(
        f"SELECT o.therapist_id, o.city FROM {Office._meta.db_table} o"  # noqa: S608
        f" WHERE o.therapist_id IN ({in_listed}) ORDER BY o.id",
        listed_ids,
    ):
        first_city.setdefault(therapist_id, city)

    concerns: dict[int, list[str]] = {therapist_id: [] for therapist_id in listed_ids}
    link = TherapistProfile.concerns.through._meta.db_table
    for therapist_id, name in fetch_rows(
        f"SELECT c.therapistprofile_id, t.name FROM {link} c"  # noqa: S608
        f" JOIN {Concern._meta.db_table} t ON t.id = c.concern_id"
        f" WHERE c.therapistprofile_id IN ({in_listed}) ORDER BY t.sort_order, t.name, t.id",
        listed_ids,
    ):
        concerns[therapist_id].append(name)

    cards = {}
    for row in listed:
        therapist_id, name, offers = row[0], row[2], (bool(row[12]), bool(row[13]), bool(row[14]))
        currency, sliding = row[10], row[11]
        public_id = as_uuid(row[1])
        cards[therapist_id] = ResultCard(
            id=therapist_id,
            public_id=public_id,
            display_name=name,
            pronouns=row[3],
            initials=display.initials(name),
            photo_url=therapist_photo_url(public_id=public_id, photo_name=row[4] or "") or None,
            headline=row[5],
            designation_code=row[6],
            designation_name=row[7],
            licensed_in=display.licensed_in_phrase(licensed[therapist_id]),
            has_video_introduction=bool(row[15]),
            has_captioned_video=bool(row[16]),
            concerns=concerns[therapist_id],
            fee=format_money(row[9], currency),
            sliding_scale_from=None if sliding is None else format_money(sliding, currency),
            delivery=display.delivery_phrase(
                label
                for (_value, _flag, label), offered in zip(DELIVERY_MODES, offers, strict=True)
                if offered
            ),
            location=display.location_phrase(
                offers_in_person=offers[0], first_city=first_city.get(therapist_id)
            ),
            experience=display.years_phrase(max(0, now.year - row[8])),
            next_consultation=display.consultation_phrase(as_utc(row[17]), row[18], now=now),
            book_url=consultation_link(public_id) if row[23] else "",
        )
    return cards


def result_cards_by_public_id(
    *, public_ids: Sequence[uuid.UUID], now: dt.datetime
) -> list[ResultCard]:
    """Cards of the listed therapists among ``public_ids``, in the given order."""
    if not public_ids:
        return []
    ids = list(
        TherapistProfile.objects.filter(public_id__in=public_ids).values_list("id", flat=True)
    )
    by_public_id = {card.public_id: card for card in result_cards_by_id(ids=ids, now=now).values()}
    return [by_public_id[public_id] for public_id in public_ids if public_id in by_public_id]
