"""The therapist's own booking settings: the policy (buffer, notice, horizon, daily cap,
confirmation), weekly windows, date exceptions and the calendar feed's secret URL. Changing them
never touches appointments already booked."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rapport.booking.facts import therapist_booking_facts_refresh_on_commit
from rapport.booking.how import meeting_link_clean
from rapport.booking.models import (
    BookingPolicy,
    ConsultationMethod,
    DateException,
    Weekday,
    WeeklyWindow,
    new_feed_token,
)
from rapport.booking.services._common import _locked_policy
from rapport.core.timezones import clock_label
from rapport.directory.models import Office, TherapistProfile


def booking_policy_for(*, therapist: TherapistProfile) -> BookingPolicy:
    """The therapist's policy, created with defaults on first use.

    Side effects: may create the BookingPolicy row (two first uses at once are safe:
    get_or_create falls back to reading the row the other one created).
    """
    policy, _ = BookingPolicy.objects.get_or_create(therapist=therapist)
    return policy


def booking_policy_update(
    *,
    therapist: TherapistProfile,
    buffer_minutes: int,
    minimum_notice_hours: int,
    horizon_days: int,
    max_consultations_per_day: int,
    requires_confirmation: bool,
) -> BookingPolicy:
    """Change how consultations may be booked. Existing appointments are kept as they are.

    Raises ValidationError with a message per field for values out of range. Side effects:
    updates the policy row; refreshes the booking facts on commit.
    """
    with transaction.atomic():
        policy = _locked_policy(therapist)
        policy.buffer_minutes = buffer_minutes
        policy.minimum_notice_hours = minimum_notice_hours
        policy.horizon_days = horizon_days
        policy.max_consultations_per_day = max_consultations_per_day
        policy.requires_confirmation = bool(requires_confirmation)
        policy.full_clean(exclude=["therapist", "feed_token"])
        policy.save()
        therapist_booking_facts_refresh_on_commit(therapist=therapist)
    return policy


def consultation_method_update(
    *,
    therapist: TherapistProfile,
    method: str,
    meeting_link: str = "",
    office_id: int | None = None,
) -> BookingPolicy:
    """Say how consultations happen: by phone, by video on the therapist's own link, or in
    person at one of their offices. Booked consultations keep the method they were booked
    with (their link and office follow the policy, so a corrected link reaches them).

    Raises ValidationError per field (an unknown method, a link that is not https, an office
    that is not the therapist's); writes nothing then. Side effects: updates the policy row;
    refreshes the booking facts on commit.
    """
    errors: dict[str, list[str]] = {}
    link = ""
    office: Office | None = None
    if method not in ConsultationMethod.values:
        errors["method"] = ["Choose how your free consultations happen."]
    elif method == ConsultationMethod.VIDEO:
        try:
            link = meeting_link_clean(meeting_link)
        except ValidationError as error:
            errors["meeting_link"] = error.messages
    elif method == ConsultationMethod.IN_PERSON:
        # Another therapist's office is the same "not one of yours" as no office.
        office = (
            Office.objects.filter(therapist=therapist, pk=office_id).first()
            if office_id is not None
            else None
        )
        if office is None:
            errors["office"] = ["Choose one of your offices."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        policy = _locked_policy(therapist)
        policy.consultation_method = method
        # Only what the method needs is kept: a link or an office left over from an earlier
        # choice would show up again unasked.
        policy.meeting_link = link
        policy.office = office
        policy.save(update_fields=["consultation_method", "meeting_link", "office", "updated_at"])
        therapist_booking_facts_refresh_on_commit(therapist=therapist)
    return policy


def _span(start: dt.time, end: dt.time) -> str:
    """``9:00 a.m. to 12:00 p.m.``: a window's hours as every page writes times."""
    return f"{clock_label(start)} to {clock_label(end)}"


def weekly_windows_check(
    windows: Iterable[tuple[int, Any, Any]],
) -> tuple[list[str], dict[int, list[tuple[dt.time, dt.time]]]]:
    """What is wrong with (weekday, start, end) rows, one sentence each (an unknown weekday, a
    missing time, an end before its start, two rows of one weekday that overlap; touching rows
    are fine), and the valid rows by weekday in time order. Writes nothing: the one rule that
    the practice pages and the bulk import's availability column both apply."""
    problems: list[str] = []
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, start, end in windows:
        if weekday not in Weekday.values:
            problems.append(f"{weekday!r} is not a weekday (0 is Monday, 6 is Sunday).")
            continue
        label = Weekday(weekday).label
        if not isinstance(start, dt.time) or not isinstance(end, dt.time):
            problems.append(f"{label}: give a start and an end time.")
            continue
        if end <= start:
            problems.append(f"{label} {_span(start, end)}: the end must be after the start.")
            continue
        by_day.setdefault(weekday, []).append((start, end))
    for weekday, rows in sorted(by_day.items()):
        rows.sort()
        for (first_start, first_end), (second_start, second_end) in itertools.pairwise(rows):
            if second_start < first_end:
                label = Weekday(weekday).label
                problems.append(
                    f"{label} {_span(first_start, first_end)} overlaps "
                    # The time ends the sentence: its "a.m." or "p.m." carries the full stop.
                    f"{label} {_span(second_start, second_end)}"
                )
    return problems, by_day


def weekly_windows_replace(
    *,
    therapist: TherapistProfile,
    windows: list[tuple[int, dt.time, dt.time]],
    refresh_facts: bool = True,
) -> None:
    """Replace all weekly windows with (weekday, start, end) rows; overlapping rows on one
    weekday are refused with ValidationError (touching rows, 9–12 and 12–17, are fine).

    Side effects: deletes and recreates the therapist's WeeklyWindow rows; refreshes the
    booking facts on commit unless ``refresh_facts=False`` (a bulk import refreshes the listed
    ones once at its end). Existing appointments are kept.
    """
    problems, by_day = weekly_windows_check(windows)
    if problems:
        raise ValidationError({"windows": problems})
    with transaction.atomic():
        WeeklyWindow.objects.filter(therapist=therapist).delete()
        WeeklyWindow.objects.bulk_create(
            WeeklyWindow(therapist=therapist, weekday=weekday, starts_at=start, ends_at=end)
            for weekday, rows in sorted(by_day.items())
            for start, end in rows
        )
        if refresh_facts:
            therapist_booking_facts_refresh_on_commit(therapist=therapist)


def date_exception_add(
    *,
    therapist: TherapistProfile,
    date: dt.date,
    kind: str,
    starts_at: dt.time | None,
    ends_at: dt.time | None,
    note: str = "",
    now: dt.datetime | None = None,
) -> DateException:
    """Add time off or extra hours on one date (in the therapist's zone).

    Raises ValidationError for a date already past, an unknown kind, extra hours without times,
    only one of the two times, or an end not after the start. Side effects: creates the
    DateException; refreshes the booking facts on commit. Appointments already booked into
    new time off are kept (the therapist cancels them explicitly, which tells the client).
    """
    now = now or timezone.now()
    exception = DateException(
        therapist=therapist,
        date=date,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        note=(note or "").strip(),
    )
    errors: dict[str, list[str]] = {}
    try:
        exception.full_clean(exclude=["therapist"], validate_constraints=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    if not errors:
        today_there = now.astimezone(zoneinfo.ZoneInfo(therapist.time_zone)).date()
        if date < today_there:
            errors["date"] = ["That date has already passed."]
        if (starts_at is None) != (ends_at is None):
            errors["ends_at" if ends_at is None else "starts_at"] = [
                "Give both a start and an end time, or neither for the whole day."
            ]
        elif starts_at is None and kind == "extra_hours":
            errors["starts_at"] = ["Extra hours need a start and an end time."]
        elif starts_at is not None and ends_at is not None and ends_at <= starts_at:
            errors["ends_at"] = ["The end must be after the start."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        exception.save()
        therapist_booking_facts_refresh_on_commit(therapist=therapist)
    return exception


def date_exception_remove(*, therapist: TherapistProfile, exception_id: int) -> None:
    """Remove one of the therapist's own date exceptions.

    Raises DateException.DoesNotExist for an id that is not theirs, exactly as for one that does
    not exist (pages answer 404 for both). Side effects: deletes the row; refreshes the booking
    facts on commit.
    """
    with transaction.atomic():
        exception = DateException.objects.get(therapist=therapist, pk=exception_id)
        exception.delete()
        therapist_booking_facts_refresh_on_commit(therapist=therapist)


def calendar_feed_rotate(
    *, therapist: TherapistProfile, now: dt.datetime | None = None
) -> BookingPolicy:
    """Give the feed a new secret URL; the old one stops working at once.

    Side effects: replaces ``feed_token`` and its creation time on the policy row.
    """
    now = now or timezone.now()
    with transaction.atomic():
        policy = _locked_policy(therapist)
        policy.feed_token = new_feed_token()
        policy.feed_token_created_at = now
        policy.save(update_fields=["feed_token", "feed_token_created_at", "updated_at"])
    return policy
