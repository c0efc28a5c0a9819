"""Free consultation times: exact instants across zones and DST changes, every policy rule, the
reasons free_time_check gives, and a property test of the pure part against a brute-force model.

Dates of 2025 clock changes used below: North America moves forward on 9 March and back on
2 November; the EU on 30 March and 26 October; Lord Howe Island moves forward half an hour on
5 October (2:00 → 2:30) and back on 6 April (2:00 → 1:30).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.booking.errors import FreeTime, SlotTaken, SlotUnavailable
from rapport.booking.models import (
    AppointmentKind,
    AppointmentStatus,
    BookingPolicy,
    DateException,
    ExceptionKind,
    WeeklyWindow,
)
from rapport.booking.slots import (
    SLOT_STEP_MINUTES,
    Availability,
    BusyTime,
    PolicyRules,
    availability_load,
    free_time_check,
    free_times_by_local_date,
    free_times_from_availability,
    instant_of_wall_time,
    therapist_free_times,
    therapist_next_free_time,
)
from rapport.directory.models import TherapistProfile
from tests.booking.factories import give_availability, make_appointment
from tests.factories import make_therapist

UTC = dt.UTC
TORONTO = ZoneInfo("America/Toronto")
LONDON = ZoneInfo("Europe/London")
ST_JOHNS = ZoneInfo("America/St_Johns")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")

MONDAY, TUESDAY, SATURDAY, SUNDAY = 0, 1, 5, 6
# A quiet week in June 2025 (Toronto on EDT, UTC-4): Monday 2 June.
JUNE_MONDAY = dt.date(2025, 6, 2)
BEFORE_JUNE_WEEK = dt.datetime(2025, 6, 1, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def toronto(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=TORONTO)


def starts(free_times: list[FreeTime]) -> list[dt.datetime]:
    return [free_time.starts_at for free_time in free_times]


def every_quarter_hour(first: dt.datetime, count: int) -> list[dt.datetime]:
    return [first + dt.timedelta(minutes=15 * index) for index in range(count)]


def shown_in(zone: ZoneInfo, free_times: list[FreeTime]) -> list[tuple[dt.date, list[str]]]:
    """What a viewer in ``zone`` reads: local dates and start times with the zone's abbreviation."""
    return [
        (day, [local.strftime("%H:%M %Z") for _, local in entries])
        for day, entries in free_times_by_local_date(free_times, zone)
    ]


def free_on_june_monday(therapist: TherapistProfile, **kwargs: object) -> list[dt.datetime]:
    """Free starts on Monday 2 June 2025 (Toronto), seen from the day before."""
    return starts(
        therapist_free_times(
            therapist=therapist,
            start=toronto(2025, 6, 2),
            end=toronto(2025, 6, 3),
            now=BEFORE_JUNE_WEEK,
            **kwargs,  # type: ignore[arg-type]
        )
    )


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    """Toronto, 15-minute consultations, Mondays and Tuesdays 9:00–12:00, no notice, no buffer."""
    therapist = make_therapist(display_name="Dana Rivers")
    give_availability(
        therapist,
        weekdays=(MONDAY, TUESDAY),
        starts_at=dt.time(9),
        ends_at=dt.time(12),
        minimum_notice_hours=0,
        buffer_minutes=0,
        horizon_days=90,
    )
    return therapist


def therapist_in(
    zone: str, windows: list[tuple[int, dt.time, dt.time]], **overrides: Any
) -> TherapistProfile:
    therapist = make_therapist(time_zone=zone, **overrides)
    WeeklyWindow.objects.bulk_create(
        WeeklyWindow(therapist=therapist, weekday=day, starts_at=start, ends_at=end)
        for day, start, end in windows
    )
    BookingPolicy.objects.create(
        therapist=therapist, minimum_notice_hours=0, buffer_minutes=0, horizon_days=90
    )
    return therapist


WEEKDAY_MORNINGS = [(day, dt.time(9), dt.time(9, 15)) for day in range(5)]


# --- zones and daylight-saving time ---------------------------------------------------------


@pytest.mark.django_db
def test_toronto_seen_from_london_is_four_hours_apart_while_only_north_america_is_on_summer_time(
    reference_data: None,
) -> None:
    therapist = therapist_in("America/Toronto", WEEKDAY_MORNINGS)
    now = utc(2025, 3, 1)

    march = therapist_free_times(
        therapist=therapist, start=utc(2025, 3, 7), end=utc(2025, 3, 11), now=now
    )
    end_of_march = therapist_free_times(
        therapist=therapist, start=utc(2025, 3, 28), end=utc(2025, 4, 1), now=now
    )

    assert starts(march) == [utc(2025, 3, 7, 14), utc(2025, 3, 10, 13)]
    assert shown_in(LONDON, march) == [
        (dt.date(2025, 3, 7), ["14:00 GMT"]),
        (dt.date(2025, 3, 10), ["13:00 GMT"]),
    ]
    assert starts(end_of_march) == [utc(2025, 3, 28, 13), utc(2025, 3, 31, 13)]
    assert shown_in(LONDON, end_of_march) == [
        (dt.date(2025, 3, 28), ["13:00 GMT"]),
        (dt.date(2025, 3, 31), ["14:00 BST"]),
    ]
    assert shown_in(TORONTO, march + end_of_march) == [
        (dt.date(2025, 3, 7), ["09:00 EST"]),
        (dt.date(2025, 3, 10), ["09:00 EDT"]),
        (dt.date(2025, 3, 28), ["09:00 EDT"]),
        (dt.date(2025, 3, 31), ["09:00 EDT"]),
    ]


@pytest.mark.django_db
def test_toronto_seen_from_london_is_four_hours_apart_while_only_europe_is_back_on_winter_time(
    reference_data: None,
) -> None:
    therapist = therapist_in("America/Toronto", WEEKDAY_MORNINGS)
    now = utc(2025, 10, 1)

    late_october = therapist_free_times(
        therapist=therapist, start=utc(2025, 10, 24), end=utc(2025, 10, 28), now=now
    )
    early_november = therapist_free_times(
        therapist=therapist, start=utc(2025, 10, 31), end=utc(2025, 11, 4), now=now
    )

    assert starts(late_october) == [utc(2025, 10, 24, 13), utc(2025, 10, 27, 13)]
    assert shown_in(LONDON, late_october) == [
        (dt.date(2025, 10, 24), ["14:00 BST"]),
        (dt.date(2025, 10, 27), ["13:00 GMT"]),
    ]
    assert starts(early_november) == [utc(2025, 10, 31, 13), utc(2025, 11, 3, 14)]
    assert shown_in(LONDON, early_november) == [
        (dt.date(2025, 10, 31), ["13:00 GMT"]),
        (dt.date(2025, 11, 3), ["14:00 GMT"]),
    ]


@pytest.mark.django_db
def test_vancouver_seen_from_st_johns_is_four_and_a_half_hours_apart_except_between_their_changes(
    reference_data: None,
) -> None:
    # Both change at 2:00 local time on 9 March, so for the 4½ hours between Newfoundland's
    # change (05:30 UTC) and British Columbia's (10:00 UTC) they are 5½ hours apart.
    therapist = therapist_in(
        "America/Vancouver",
        [(MONDAY, dt.time(9), dt.time(9, 15)), (SUNDAY, dt.time(1), dt.time(1, 15))],
    )

    free_times = therapist_free_times(
        therapist=therapist, start=utc(2025, 3, 3), end=utc(2025, 3, 11), now=utc(2025, 3, 1)
    )

    assert starts(free_times) == [utc(2025, 3, 3, 17), utc(2025, 3, 9, 9), utc(2025, 3, 10, 16)]
    assert shown_in(ST_JOHNS, free_times) == [
        (dt.date(2025, 3, 3), ["13:30 NST"]),
        (dt.date(2025, 3, 9), ["06:30 NDT"]),
        (dt.date(2025, 3, 10), ["13:30 NDT"]),
    ]


@pytest.mark.django_db
def test_lord_howe_skips_half_an_hour_in_october_and_a_window_over_it_is_two_real_hours(
    reference_data: None,
) -> None:
    therapist = therapist_in("Australia/Lord_Howe", [(SUNDAY, dt.time(1), dt.time(3, 30))])

    free_times = therapist_free_times(
        therapist=therapist,
        start=utc(2025, 10, 4, 12),
        end=utc(2025, 10, 5, 12),
        now=utc(2025, 9, 20),
    )

    # 1:00 is UTC+10:30; at 2:00 clocks jump to 2:30 (UTC+11) at 15:30 UTC.
    assert starts(free_times) == every_quarter_hour(utc(2025, 10, 4, 14, 30), 8)
    assert shown_in(LORD_HOWE, free_times) == [
        (
            dt.date(2025, 10, 5),
            [
                "01:00 +1030",
                "01:15 +1030",
                "01:30 +1030",
                "01:45 +1030",
                "02:30 +11",
                "02:45 +11",
                "03:00 +11",
                "03:15 +11",
            ],
        )
    ]


@pytest.mark.django_db
def test_lord_howe_repeats_half_an_hour_in_april_and_both_readings_are_offered(
    reference_data: None,
) -> None:
    therapist = therapist_in("Australia/Lord_Howe", [(SUNDAY, dt.time(1), dt.time(2, 30))])

    free_times = therapist_free_times(
        therapist=therapist,
        start=utc(2025, 4, 5, 12),
        end=utc(2025, 4, 6, 12),
        now=utc(2025, 3, 20),
    )

    # At 2:00 (UTC+11, 15:00 UTC) clocks go back to 1:30 (UTC+10:30): 1:30–2:00 shows twice.
    assert starts(free_times) == every_quarter_hour(utc(2025, 4, 5, 14), 8)
    assert shown_in(LORD_HOWE, free_times) == [
        (
            dt.date(2025, 4, 6),
            [
                "01:00 +11",
                "01:15 +11",
                "01:30 +11",
                "01:45 +11",
                "01:30 +1030",
                "01:45 +1030",
                "02:00 +1030",
                "02:15 +1030",
            ],
        )
    ]


@pytest.mark.django_db
def test_wall_times_in_the_spring_forward_gap_are_never_offered(reference_data: None) -> None:
    therapist = therapist_in("America/Toronto", [(SUNDAY, dt.time(1), dt.time(4))])

    free_times = therapist_free_times(
        therapist=therapist, start=utc(2025, 3, 9), end=utc(2025, 3, 10), now=utc(2025, 3, 1)
    )

    # 1:00–1:45 EST, then 3:00–3:45 EDT: 2:00–2:45 do not exist that night.
    assert starts(free_times) == every_quarter_hour(utc(2025, 3, 9, 6), 8)
    assert shown_in(TORONTO, free_times)[0][1] == [
        "01:00 EST", "01:15 EST", "01:30 EST", "01:45 EST",
        "03:00 EDT", "03:15 EDT", "03:30 EDT", "03:45 EDT",
    ]  # fmt: skip


@pytest.mark.django_db
def test_lengths_are_real_minutes_so_an_hour_fits_across_the_gap(reference_data: None) -> None:
    therapist = therapist_in(
        "America/Toronto", [(SUNDAY, dt.time(1), dt.time(4))], consultation_minutes=60
    )

    free_times = therapist_free_times(
        therapist=therapist, start=utc(2025, 3, 9), end=utc(2025, 3, 10), now=utc(2025, 3, 1)
    )

    # 1:00–4:00 that night is two real hours (06:00–08:00 UTC); 1:45 EST runs to 3:45 EDT.
    assert starts(free_times) == every_quarter_hour(utc(2025, 3, 9, 6), 5)
    assert free_times[-1] == FreeTime(starts_at=utc(2025, 3, 9, 7), ends_at=utc(2025, 3, 9, 8))


@pytest.mark.django_db
def test_both_readings_of_the_repeated_hour_are_offered_when_clocks_move_back(
    reference_data: None,
) -> None:
    therapist = therapist_in(
        "America/Toronto", [(SUNDAY, dt.time(0, 30), dt.time(2, 30))], consultation_minutes=30
    )

    free_times = therapist_free_times(
        therapist=therapist, start=utc(2025, 11, 2), end=utc(2025, 11, 3), now=utc(2025, 10, 20)
    )

    # 0:30 EDT (04:30 UTC) to 2:30 EST (07:30 UTC) is three real hours; every quarter hour in it
    # is offered once, the last ending exactly at 2:30 EST.
    assert starts(free_times) == every_quarter_hour(utc(2025, 11, 2, 4, 30), 11)
    assert shown_in(TORONTO, free_times)[0][1] == [
        "00:30 EDT", "00:45 EDT", "01:00 EDT", "01:15 EDT", "01:30 EDT", "01:45 EDT",
        "01:00 EST", "01:15 EST", "01:30 EST", "01:45 EST", "02:00 EST",
    ]  # fmt: skip


@pytest.mark.django_db
def test_checking_a_wall_time_that_clocks_skip_says_it_does_not_exist(reference_data: None) -> None:
    therapist = therapist_in("America/Toronto", [(SUNDAY, dt.time(1), dt.time(4))])

    with pytest.raises(SlotUnavailable) as refused:
        free_time_check(
            therapist=therapist, starts_at=toronto(2025, 3, 9, 2, 30), now=utc(2025, 3, 1)
        )

    assert refused.value.message == (
        "That time does not exist in Eastern Time (Toronto) because clocks move forward from "
        "2:00 a.m. to 3:00 a.m. on Sunday, March 9, 2025."
    )
    # The same instant as a real one (07:30 UTC is 3:30 EDT) is on the grid and free.
    assert free_time_check(
        therapist=therapist, starts_at=utc(2025, 3, 9, 7, 30), now=utc(2025, 3, 1)
    ) == FreeTime(starts_at=utc(2025, 3, 9, 7, 30), ends_at=utc(2025, 3, 9, 7, 45))


def test_a_typed_wall_time_in_a_gap_is_refused_and_one_in_a_fold_is_its_first_reading() -> None:
    with pytest.raises(SlotUnavailable) as refused:
        instant_of_wall_time(day=dt.date(2025, 10, 5), time=dt.time(2, 15), zone=LORD_HOWE)

    assert refused.value.message == (
        "That time does not exist in Lord Howe time because clocks move forward from 2:00 a.m. "
        "to 2:30 a.m. on Sunday, October 5, 2025."
    )
    assert instant_of_wall_time(day=dt.date(2025, 11, 2), time=dt.time(1, 30), zone=TORONTO) == utc(
        2025, 11, 2, 5, 30
    )
    assert instant_of_wall_time(day=dt.date(2025, 6, 2), time=dt.time(9), zone=TORONTO) == utc(
        2025, 6, 2, 13
    )


# --- policy rules ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("buffer_minutes", "free_times_edt"),
    [
        (0, ["9:00", "9:15", "9:30", "9:45", "10:30", "10:45", "11:00", "11:15", "11:30", "11:45"]),
        (15, ["9:00", "9:15", "9:30", "10:45", "11:00", "11:15", "11:30", "11:45"]),
        (20, ["9:00", "9:15", "11:00", "11:15", "11:30", "11:45"]),
    ],
)
def test_the_buffer_keeps_time_free_on_both_sides_of_any_appointment(
    therapist: TherapistProfile, buffer_minutes: int, free_times_edt: list[str]
) -> None:
    BookingPolicy.objects.filter(therapist=therapist).update(buffer_minutes=buffer_minutes)
    make_appointment(therapist, toronto(2025, 6, 2, 10), minutes=30, kind=AppointmentKind.SESSION)

    free = free_on_june_monday(therapist)

    assert [f"{start.astimezone(TORONTO):%-H:%M}" for start in free] == free_times_edt


@pytest.mark.django_db
def test_minimum_notice_moves_the_earliest_start(therapist: TherapistProfile) -> None:
    BookingPolicy.objects.filter(therapist=therapist).update(minimum_notice_hours=2)
    now = utc(2025, 6, 2, 12)  # 8:00 EDT

    free = therapist_free_times(therapist=therapist, start=now, end=utc(2025, 6, 2, 20), now=now)

    # Earliest is 10:00 EDT; the window ends at 12:00 EDT.
    assert starts(free) == every_quarter_hour(utc(2025, 6, 2, 14), 8)


@pytest.mark.django_db
def test_the_horizon_ends_exactly_that_many_days_after_now(reference_data: None) -> None:
    therapist = make_therapist()
    give_availability(
        therapist,
        weekdays=(MONDAY, TUESDAY),
        starts_at=dt.time(7),
        ends_at=dt.time(9),
        minimum_notice_hours=0,
        horizon_days=1,
    )
    now = utc(2025, 6, 2, 12)  # Monday 8:00 EDT

    free = therapist_free_times(
        therapist=therapist, start=now, end=now + dt.timedelta(days=10), now=now
    )

    # Monday 8:00–8:45 EDT and Tuesday 7:00–7:45 EDT; Tuesday 8:00 EDT is now + 1 day.
    assert starts(free) == every_quarter_hour(now, 4) + every_quarter_hour(utc(2025, 6, 3, 11), 4)


@pytest.mark.django_db
def test_a_day_with_as_many_consultations_as_the_daily_cap_offers_nothing_more(
    therapist: TherapistProfile,
) -> None:
    BookingPolicy.objects.filter(therapist=therapist).update(max_consultations_per_day=2)
    make_appointment(therapist, toronto(2025, 6, 2, 9), status=AppointmentStatus.CONFIRMED)
    make_appointment(therapist, toronto(2025, 6, 2, 11), status=AppointmentStatus.REQUESTED)

    free = therapist_free_times(
        therapist=therapist, start=toronto(2025, 6, 2), end=toronto(2025, 6, 4), now=utc(2025, 6, 1)
    )

    assert starts(free) == every_quarter_hour(utc(2025, 6, 3, 13), 12)  # Tuesday only


@pytest.mark.django_db
def test_sessions_and_cancelled_consultations_do_not_count_toward_the_daily_cap(
    therapist: TherapistProfile,
) -> None:
    BookingPolicy.objects.filter(therapist=therapist).update(max_consultations_per_day=1)
    make_appointment(therapist, toronto(2025, 6, 2, 9), kind=AppointmentKind.SESSION, minutes=60)
    make_appointment(therapist, toronto(2025, 6, 2, 11), status=AppointmentStatus.CANCELLED)

    free = free_on_june_monday(therapist)

    # The session blocks 9:00–10:00; the cancelled consultation blocks nothing.
    assert free == every_quarter_hour(utc(2025, 6, 2, 14), 8)


@pytest.mark.django_db
def test_cancelled_declined_and_expired_appointments_leave_their_time_free(
    therapist: TherapistProfile,
) -> None:
    for status in (
        AppointmentStatus.CANCELLED,
        AppointmentStatus.DECLINED,
        AppointmentStatus.EXPIRED,
    ):
        make_appointment(therapist, toronto(2025, 6, 2, 10), minutes=60, status=status)

    assert free_on_june_monday(therapist) == every_quarter_hour(utc(2025, 6, 2, 13), 12)


@pytest.mark.django_db
def test_ignoring_an_appointment_frees_its_own_time_and_its_place_under_the_cap(
    therapist: TherapistProfile,
) -> None:
    BookingPolicy.objects.filter(therapist=therapist).update(
        max_consultations_per_day=1, buffer_minutes=10
    )
    consultation = make_appointment(therapist, toronto(2025, 6, 2, 10))

    assert free_on_june_monday(therapist) == []
    assert free_on_june_monday(therapist, ignoring=consultation) == every_quarter_hour(
        utc(2025, 6, 2, 13), 12
    )


@pytest.mark.django_db
def test_ignoring_one_appointment_still_respects_the_others(therapist: TherapistProfile) -> None:
    moving = make_appointment(therapist, toronto(2025, 6, 2, 9))
    make_appointment(therapist, toronto(2025, 6, 2, 10), minutes=90, kind=AppointmentKind.SESSION)

    free = free_on_june_monday(therapist, ignoring=moving)

    # Its own 9:00 stays free; the session holds 10:00–11:30.
    assert free == [
        *every_quarter_hour(utc(2025, 6, 2, 13), 4),
        *every_quarter_hour(utc(2025, 6, 2, 15, 30), 2),
    ]


@pytest.mark.django_db
def test_whole_day_time_off_removes_the_day(therapist: TherapistProfile) -> None:
    DateException.objects.create(therapist=therapist, date=JUNE_MONDAY, kind=ExceptionKind.TIME_OFF)

    free = therapist_free_times(
        therapist=therapist, start=toronto(2025, 6, 2), end=toronto(2025, 6, 4), now=utc(2025, 6, 1)
    )

    assert starts(free) == every_quarter_hour(utc(2025, 6, 3, 13), 12)


@pytest.mark.django_db
def test_time_off_for_a_stretch_removes_only_what_overlaps_it(therapist: TherapistProfile) -> None:
    BookingPolicy.objects.filter(therapist=therapist).update(buffer_minutes=30)
    DateException.objects.create(
        therapist=therapist,
        date=JUNE_MONDAY,
        kind=ExceptionKind.TIME_OFF,
        starts_at=dt.time(10),
        ends_at=dt.time(11),
    )

    # The buffer is for appointments, not for time off: 9:45 and 11:00 stay free.
    assert free_on_june_monday(therapist) == every_quarter_hour(
        utc(2025, 6, 2, 13), 4
    ) + every_quarter_hour(utc(2025, 6, 2, 15), 4)


@pytest.mark.django_db
def test_extra_hours_add_a_day_without_windows_and_extend_a_window_without_repeats(
    therapist: TherapistProfile,
) -> None:
    DateException.objects.create(
        therapist=therapist,
        date=dt.date(2025, 6, 7),
        kind=ExceptionKind.EXTRA_HOURS,
        starts_at=dt.time(10),
        ends_at=dt.time(11),
    )
    DateException.objects.create(
        therapist=therapist,
        date=JUNE_MONDAY,
        kind=ExceptionKind.EXTRA_HOURS,
        starts_at=dt.time(11),
        ends_at=dt.time(13),
    )

    saturday = therapist_free_times(
        therapist=therapist, start=toronto(2025, 6, 7), end=toronto(2025, 6, 8), now=utc(2025, 6, 1)
    )

    assert starts(saturday) == every_quarter_hour(utc(2025, 6, 7, 14), 4)
    assert free_on_june_monday(therapist) == every_quarter_hour(utc(2025, 6, 2, 13), 16)


@pytest.mark.django_db
def test_whole_day_time_off_wins_over_extra_hours_on_the_same_date(
    therapist: TherapistProfile,
) -> None:
    DateException.objects.create(therapist=therapist, date=JUNE_MONDAY, kind=ExceptionKind.TIME_OFF)
    DateException.objects.create(
        therapist=therapist,
        date=JUNE_MONDAY,
        kind=ExceptionKind.EXTRA_HOURS,
        starts_at=dt.time(13),
        ends_at=dt.time(14),
    )

    assert free_on_june_monday(therapist) == []


@pytest.mark.django_db
def test_the_grid_starts_at_each_windows_own_start(reference_data: None) -> None:
    therapist = therapist_in("America/Toronto", [(MONDAY, dt.time(9, 10), dt.time(10))])

    # 9:55 would end at 10:10, after the window.
    assert free_on_june_monday(therapist) == [
        utc(2025, 6, 2, 13, 10),
        utc(2025, 6, 2, 13, 25),
        utc(2025, 6, 2, 13, 40),
    ]


@pytest.mark.django_db
def test_no_consultation_offered_means_no_free_times_and_no_queries(
    reference_data: None, django_assert_num_queries: object
) -> None:
    therapist = make_therapist(consultation_minutes=0)
    give_availability(therapist, minimum_notice_hours=0)

    with django_assert_num_queries(0):  # type: ignore[operator]
        assert free_on_june_monday(therapist) == []
    with pytest.raises(SlotUnavailable) as refused:
        free_time_check(therapist=therapist, starts_at=toronto(2025, 6, 2, 9), now=utc(2025, 6, 1))
    assert refused.value.message == f"{therapist.display_name} does not offer a free consultation."


@pytest.mark.django_db
def test_a_therapist_without_windows_has_no_free_times(reference_data: None) -> None:
    therapist = make_therapist()

    assert free_on_june_monday(therapist) == []
    assert therapist_next_free_time(therapist=therapist, now=BEFORE_JUNE_WEEK) is None


@pytest.mark.django_db
def test_a_therapist_without_a_policy_gets_the_defaults_and_reading_creates_none(
    reference_data: None,
) -> None:
    therapist = make_therapist()
    WeeklyWindow.objects.create(
        therapist=therapist, weekday=TUESDAY, starts_at=dt.time(9), ends_at=dt.time(10)
    )
    now = utc(2025, 6, 2, 13, 30)  # Monday 9:30 EDT: 24 hours' notice rules out 9:00 and 9:15

    free = therapist_free_times(
        therapist=therapist, start=now, end=now + dt.timedelta(days=2), now=now
    )

    assert starts(free) == [utc(2025, 6, 3, 13, 30), utc(2025, 6, 3, 13, 45)]
    assert not BookingPolicy.objects.exists()


@pytest.mark.django_db
def test_three_weeks_of_free_times_take_four_queries(
    therapist: TherapistProfile, django_assert_num_queries: object
) -> None:
    make_appointment(therapist, toronto(2025, 6, 2, 10))
    DateException.objects.create(therapist=therapist, date=JUNE_MONDAY, kind=ExceptionKind.TIME_OFF)

    with django_assert_num_queries(4):  # type: ignore[operator]
        free = therapist_free_times(
            therapist=therapist,
            start=BEFORE_JUNE_WEEK,
            end=BEFORE_JUNE_WEEK + dt.timedelta(days=21),
            now=BEFORE_JUNE_WEEK,
        )

    assert len(free) == 5 * 12  # Tuesday 3 June, then both days of weeks two and three


# --- the next free time ------------------------------------------------------------------------


@pytest.mark.django_db
def test_next_free_time_is_the_earliest_within_the_horizon(therapist: TherapistProfile) -> None:
    make_appointment(therapist, toronto(2025, 6, 2, 9), minutes=60, kind=AppointmentKind.SESSION)

    assert therapist_next_free_time(therapist=therapist, now=BEFORE_JUNE_WEEK) == FreeTime(
        starts_at=utc(2025, 6, 2, 14), ends_at=utc(2025, 6, 2, 14, 15)
    )


@pytest.mark.django_db
def test_next_free_time_is_none_when_the_horizon_holds_nothing(
    therapist: TherapistProfile,
) -> None:
    BookingPolicy.objects.filter(therapist=therapist).update(horizon_days=1)

    # Wednesday: the next windows are on Monday.
    assert therapist_next_free_time(therapist=therapist, now=utc(2025, 6, 4, 12)) is None


# --- checking one start ------------------------------------------------------------------------


@pytest.mark.django_db
def test_check_returns_the_free_time_for_a_start_in_any_zone(therapist: TherapistProfile) -> None:
    # 15:00 in London (BST) is 10:00 in Toronto (EDT).
    starts_at = dt.datetime(2025, 6, 2, 15, tzinfo=LONDON)

    free_time = free_time_check(therapist=therapist, starts_at=starts_at, now=BEFORE_JUNE_WEEK)

    assert free_time == FreeTime(starts_at=utc(2025, 6, 2, 14), ends_at=utc(2025, 6, 2, 14, 15))
    assert free_time.starts_at.tzinfo is UTC


@pytest.mark.django_db
def test_check_of_a_held_time_is_slot_taken_with_the_next_three_free_times(
    therapist: TherapistProfile,
) -> None:
    BookingPolicy.objects.filter(therapist=therapist).update(buffer_minutes=10)
    make_appointment(therapist, toronto(2025, 6, 2, 10), minutes=30)

    with pytest.raises(SlotTaken) as taken:
        free_time_check(
            therapist=therapist, starts_at=toronto(2025, 6, 2, 10), now=BEFORE_JUNE_WEEK
        )

    assert taken.value.message == "That time is no longer free."
    assert taken.value.next_free == [
        FreeTime(starts_at=utc(2025, 6, 2, 14, 45), ends_at=utc(2025, 6, 2, 15)),
        FreeTime(starts_at=utc(2025, 6, 2, 15), ends_at=utc(2025, 6, 2, 15, 15)),
        FreeTime(starts_at=utc(2025, 6, 2, 15, 15), ends_at=utc(2025, 6, 2, 15, 30)),
    ]


@pytest.mark.django_db
def test_check_of_a_time_inside_the_buffer_is_slot_taken(therapist: TherapistProfile) -> None:
    BookingPolicy.objects.filter(therapist=therapist).update(buffer_minutes=10)
    make_appointment(therapist, toronto(2025, 6, 2, 10), minutes=30)

    with pytest.raises(SlotTaken) as taken:
        free_time_check(
            therapist=therapist, starts_at=toronto(2025, 6, 2, 9, 45), now=BEFORE_JUNE_WEEK
        )

    # 9:45–10:00 ends inside the 10 minutes kept before 10:00; 10:45 is the first one after.
    assert starts(taken.value.next_free) == every_quarter_hour(utc(2025, 6, 2, 14, 45), 3)


@pytest.mark.django_db
def test_check_while_ignoring_the_appointment_that_holds_the_time_allows_it(
    therapist: TherapistProfile,
) -> None:
    held = make_appointment(therapist, toronto(2025, 6, 2, 10))

    free_time = free_time_check(
        therapist=therapist, starts_at=toronto(2025, 6, 2, 10), now=BEFORE_JUNE_WEEK, ignoring=held
    )

    assert free_time == FreeTime(starts_at=utc(2025, 6, 2, 14), ends_at=utc(2025, 6, 2, 14, 15))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("starts_at", "reason"),
    [
        (toronto(2025, 5, 30, 10), "That time has already passed."),
        (
            toronto(2025, 6, 2, 10, 7),
            "Consultations with Dana Rivers start every 15 minutes from the start of their "
            "available hours; that time is not one of them.",
        ),
        (
            toronto(2025, 6, 2, 10, 0, 30),
            "Consultations with Dana Rivers start every 15 minutes from the start of their "
            "available hours; that time is not one of them.",
        ),
        (
            toronto(2025, 6, 2, 8, 45),
            "Dana Rivers is not available for a consultation at that time.",
        ),
        (
            toronto(2025, 6, 4, 10),  # a Wednesday
            "Dana Rivers is not available for a consultation at that time.",
        ),
        (
            toronto(2025, 9, 1, 10),
            "Consultations with Dana Rivers can be booked at most 90 days ahead.",
        ),
    ],
)
def test_check_refuses_what_the_rules_never_offer_with_the_reason(
    therapist: TherapistProfile, starts_at: dt.datetime, reason: str
) -> None:
    with pytest.raises(SlotUnavailable) as refused:
        free_time_check(therapist=therapist, starts_at=starts_at, now=BEFORE_JUNE_WEEK)

    assert not isinstance(refused.value, SlotTaken)
    assert refused.value.message == reason


@pytest.mark.django_db
def test_check_refuses_a_start_inside_the_minimum_notice(therapist: TherapistProfile) -> None:
    BookingPolicy.objects.filter(therapist=therapist).update(minimum_notice_hours=24)

    with pytest.raises(SlotUnavailable) as refused:
        free_time_check(
            therapist=therapist, starts_at=toronto(2025, 6, 2, 10), now=utc(2025, 6, 1, 16)
        )

    assert refused.value.message == (
        "Consultations with Dana Rivers need at least 24 hours of notice."
    )


@pytest.mark.django_db
def test_check_refuses_a_consultation_that_would_run_past_the_window(
    reference_data: None,
) -> None:
    therapist = therapist_in(
        "America/Toronto",
        [(MONDAY, dt.time(9), dt.time(12))],
        consultation_minutes=30,
        display_name="Dana Rivers",
    )

    with pytest.raises(SlotUnavailable) as refused:
        free_time_check(
            therapist=therapist, starts_at=toronto(2025, 6, 2, 11, 45), now=BEFORE_JUNE_WEEK
        )

    assert refused.value.message == (
        "A consultation at that time would run past the end of Dana Rivers's available hours."
    )


@pytest.mark.django_db
def test_check_refuses_days_off_time_off_and_a_full_day_as_unavailable(
    therapist: TherapistProfile,
) -> None:
    BookingPolicy.objects.filter(therapist=therapist).update(max_consultations_per_day=1)
    DateException.objects.create(therapist=therapist, date=JUNE_MONDAY, kind=ExceptionKind.TIME_OFF)
    DateException.objects.create(
        therapist=therapist,
        date=dt.date(2025, 6, 3),
        kind=ExceptionKind.TIME_OFF,
        starts_at=dt.time(9),
        ends_at=dt.time(10),
    )
    make_appointment(therapist, toronto(2025, 6, 9, 9))

    reasons = {}
    for label, starts_at in {
        "day off": toronto(2025, 6, 2, 10),
        "time off": toronto(2025, 6, 3, 9, 30),
        "daily cap": toronto(2025, 6, 9, 11),
    }.items():
        with pytest.raises(SlotUnavailable) as refused:
            free_time_check(therapist=therapist, starts_at=starts_at, now=BEFORE_JUNE_WEEK)
        assert not isinstance(refused.value, SlotTaken)
        reasons[label] = refused.value.message

    assert reasons == {
        "day off": "Dana Rivers is not taking consultations that day.",
        "time off": "Dana Rivers is away at that time.",
        "daily cap": "Dana Rivers already has as many consultations that day as they take (1); "
        "please choose another day.",
    }


@pytest.mark.django_db
def test_check_refuses_a_naive_datetime(therapist: TherapistProfile) -> None:
    with pytest.raises(ValueError, match="starts_at must be an aware datetime"):
        free_time_check(
            therapist=therapist, starts_at=dt.datetime(2025, 6, 2, 10), now=BEFORE_JUNE_WEEK
        )


@pytest.mark.django_db
def test_every_listed_free_time_passes_the_check(therapist: TherapistProfile) -> None:
    BookingPolicy.objects.filter(therapist=therapist).update(buffer_minutes=10)
    make_appointment(therapist, toronto(2025, 6, 3, 10), minutes=50, kind=AppointmentKind.SESSION)
    free = therapist_free_times(
        therapist=therapist, start=toronto(2025, 6, 2), end=toronto(2025, 6, 4), now=utc(2025, 6, 1)
    )

    assert len(free) == 12 + 7
    for free_time in free:
        assert (
            free_time_check(therapist=therapist, starts_at=free_time.starts_at, now=utc(2025, 6, 1))
            == free_time
        )


# --- the pure part against a brute-force model ----------------------------------------------

# Zones with half-hour and 45-minute offsets, half-hour changes, changes at midnight (Santiago)
# and none at all, each with the Saturdays just before its 2025 changes and a quiet one.
PROPERTY_ZONES = {
    "America/Toronto": [dt.date(2025, 3, 8), dt.date(2025, 11, 1)],
    "Europe/London": [dt.date(2025, 3, 29), dt.date(2025, 10, 25)],
    "America/St_Johns": [dt.date(2025, 3, 8), dt.date(2025, 11, 1)],
    "Australia/Lord_Howe": [dt.date(2025, 4, 5), dt.date(2025, 10, 4)],
    "America/Santiago": [dt.date(2025, 4, 5), dt.date(2025, 9, 6)],
    "Pacific/Chatham": [dt.date(2025, 4, 5), dt.date(2025, 9, 27)],
    "Asia/Kolkata": [],
}
QUIET_SATURDAY = dt.date(2025, 6, 14)


def _quarter(index: int) -> dt.time:
    return dt.time(index // 4, index % 4 * 15)


@st.composite
def _stretches(draw: st.DrawFn) -> tuple[dt.time, dt.time]:
    # Often at night, where clocks change (Santiago's at midnight).
    start = draw(st.one_of(st.integers(0, 94), st.integers(0, 12), st.integers(88, 94)))
    end = draw(st.integers(start + 1, min(95, start + 24)))
    return _quarter(start), _quarter(end)


@st.composite
def _scenarios(draw: st.DrawFn) -> tuple[Availability, dt.datetime]:
    zone_name = draw(st.sampled_from(sorted(PROPERTY_ZONES)))
    zone = ZoneInfo(zone_name)
    anchor = draw(st.sampled_from([*PROPERTY_ZONES[zone_name], QUIET_SATURDAY]))
    # The anchors are the Saturdays before the changes, so the horizon usually holds one.
    now = dt.datetime.combine(anchor, dt.time(), tzinfo=UTC) - dt.timedelta(
        minutes=draw(st.integers(0, 24 * 60))
    )
    weekly = {
        day: draw(st.lists(_stretches(), min_size=1, max_size=2))
        for day in draw(st.sets(st.integers(0, 6), min_size=2, max_size=7))
    }
    near_dates = st.sampled_from([anchor + dt.timedelta(days=offset) for offset in range(-1, 4)])
    extra_hours: dict[dt.date, list[tuple[dt.time, dt.time]]] = {}
    time_off: dict[dt.date, list[tuple[dt.time, dt.time]]] = {}
    for day, stretch in draw(st.lists(st.tuples(near_dates, _stretches()), max_size=2)):
        extra_hours.setdefault(day, []).append(stretch)
    for day, stretch in draw(st.lists(st.tuples(near_dates, _stretches()), max_size=2)):
        time_off.setdefault(day, []).append(stretch)
    appointments = []
    for _ in range(draw(st.integers(0, 6))):
        # Any 5-minute start from 5 hours before now to 3 days after: on and off the grid.
        appointment_start = now + dt.timedelta(minutes=5 * draw(st.integers(-60, 12 * 72)))
        minutes = draw(st.sampled_from([15, 30, 50, 90]))
        appointments.append(
            BusyTime(
                starts_at=appointment_start,
                ends_at=appointment_start + dt.timedelta(minutes=minutes),
                is_consultation=draw(st.booleans()),
            )
        )
    availability = Availability(
        zone=zone,
        consultation_minutes=draw(st.sampled_from([15, 20, 30, 45, 60])),
        policy=PolicyRules(
            buffer_minutes=draw(st.sampled_from([0, 5, 10, 30])),
            minimum_notice_hours=draw(st.integers(0, 12)),
            horizon_days=draw(st.integers(2, 3)),
            max_consultations_per_day=draw(st.integers(1, 3)),
        ),
        weekly_windows=weekly,
        extra_hours=extra_hours,
        days_off=frozenset(draw(st.sets(near_dates, max_size=1))),
        time_off=time_off,
        appointments=appointments,
        first_date=anchor - dt.timedelta(days=4),
        last_date=anchor + dt.timedelta(days=8),
    )
    return availability, now


class ClockModel:
    """Minute by minute, what a clock in one zone shows: an independent, slow model of wall time
    (every offset and change in use falls on a whole minute)."""

    def __init__(self, zone: ZoneInfo, first: dt.datetime, last: dt.datetime) -> None:
        self.minutes: list[tuple[dt.datetime, dt.datetime]] = []
        self.moments_showing: dict[dt.datetime, list[dt.datetime]] = {}
        moment = first
        while moment <= last:
            shown = moment.astimezone(zone).replace(tzinfo=None, fold=0)
            self.minutes.append((moment, shown))
            self.moments_showing.setdefault(shown, []).append(moment)
            moment += dt.timedelta(minutes=1)

    def showing(self, wall: dt.datetime) -> list[dt.datetime]:
        return self.moments_showing.get(wall, [])

    def span(
        self, wall_start: dt.datetime, wall_end: dt.datetime
    ) -> tuple[dt.datetime, dt.datetime]:
        """From the first minute showing wall_start or later, to the last minute showing
        wall_end or earlier (plus a minute if the clock jumped over wall_end)."""
        begin = next(moment for moment, shown in self.minutes if shown >= wall_start)
        last, shown_then = max(
            (moment, shown) for moment, shown in self.minutes if shown <= wall_end
        )
        return begin, last if shown_then == wall_end else last + dt.timedelta(minutes=1)


def brute_force_free_times(availability: Availability, now: dt.datetime) -> list[dt.datetime]:
    policy = availability.policy
    zone = availability.zone
    length = dt.timedelta(minutes=availability.consultation_minutes)
    buffer = dt.timedelta(minutes=policy.buffer_minutes)
    lower = now + dt.timedelta(hours=policy.minimum_notice_hours)
    upper = now + dt.timedelta(days=policy.horizon_days)
    first_day = lower.astimezone(zone).date() - dt.timedelta(days=1)
    last_day = upper.astimezone(zone).date() + dt.timedelta(days=1)
    clock = ClockModel(
        zone,
        dt.datetime.combine(first_day, dt.time(), tzinfo=UTC) - dt.timedelta(days=1),
        dt.datetime.combine(last_day, dt.time(), tzinfo=UTC) + dt.timedelta(days=2),
    )
    consultations_on: dict[dt.date, int] = {}
    for busy in availability.appointments:
        if busy.is_consultation:
            day = busy.starts_at.astimezone(zone).date()
            consultations_on[day] = consultations_on.get(day, 0) + 1
    found: set[dt.datetime] = set()
    day = first_day
    while day <= last_day:
        if day in availability.days_off or consultations_on.get(day, 0) >= (
            policy.max_consultations_per_day
        ):
            day += dt.timedelta(days=1)
            continue
        time_off = [
            clock.span(dt.datetime.combine(day, start), dt.datetime.combine(day, end))
            for start, end in availability.time_off.get(day, ())
        ]
        windows = [*availability.weekly_windows.get(day.weekday(), ())]
        windows += availability.extra_hours.get(day, [])
        for window_start, window_end in windows:
            wall_start = dt.datetime.combine(day, window_start)
            wall_end = dt.datetime.combine(day, window_end)
            span_start, span_end = clock.span(wall_start, wall_end)
            wall = wall_start
            while wall < wall_end:
                for start in clock.showing(wall):
                    end = start + length
                    if (
                        span_start <= start
                        and end <= span_end
                        and lower <= start < upper
                        and not any(a < end and start < b for a, b in time_off)
                        and not any(
                            busy.starts_at - buffer < end and start < busy.ends_at + buffer
                            for busy in availability.appointments
                        )
                    ):
                        found.add(start)
                wall += dt.timedelta(minutes=SLOT_STEP_MINUTES)
        day += dt.timedelta(days=1)
    return sorted(found)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scenarios())
def test_free_times_equal_a_brute_force_model_of_every_rule(
    scenario: tuple[Availability, dt.datetime],
) -> None:
    availability, now = scenario

    free = free_times_from_availability(
        availability=availability, start=now, end=now + dt.timedelta(days=30), now=now
    )

    assert starts(free) == brute_force_free_times(availability, now)
    for free_time in free:
        assert free_time.ends_at - free_time.starts_at == dt.timedelta(
            minutes=availability.consultation_minutes
        )


def test_the_pure_part_refuses_dates_it_was_not_given() -> None:
    availability = Availability(
        zone=TORONTO,
        consultation_minutes=15,
        policy=PolicyRules.defaults(),
        weekly_windows={MONDAY: [(dt.time(9), dt.time(12))]},
        extra_hours={},
        days_off=frozenset(),
        time_off={},
        appointments=[],
        first_date=JUNE_MONDAY,
        last_date=JUNE_MONDAY,
    )

    with pytest.raises(ValueError, match="need availability loaded for those dates"):
        free_times_from_availability(
            availability=availability,
            start=BEFORE_JUNE_WEEK,
            end=BEFORE_JUNE_WEEK + dt.timedelta(days=7),
            now=BEFORE_JUNE_WEEK,
        )


@pytest.mark.django_db
def test_loaded_availability_gives_the_same_free_times_as_the_one_call(
    therapist: TherapistProfile,
) -> None:
    make_appointment(therapist, toronto(2025, 6, 2, 10), minutes=60)
    start, end = BEFORE_JUNE_WEEK, BEFORE_JUNE_WEEK + dt.timedelta(days=21)

    availability = availability_load(
        therapist=therapist, start=start, end=end, now=BEFORE_JUNE_WEEK
    )

    assert free_times_from_availability(
        availability=availability, start=start, end=end, now=BEFORE_JUNE_WEEK
    ) == therapist_free_times(therapist=therapist, start=start, end=end, now=BEFORE_JUNE_WEEK)
    assert availability.appointments == [
        BusyTime(starts_at=utc(2025, 6, 2, 14), ends_at=utc(2025, 6, 2, 15), is_consultation=True)
    ]
