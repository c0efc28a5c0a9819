"""How days, times and zones are written for people (``rapport.core.timezones`` and its
``core_dates`` template filters), checked against a table written out by hand: the days clocks
change in spring and autumn (Toronto, Winnipeg, St. John's, Phoenix that never changes, Lord
Howe whose change is half an hour), midnight and noon, zones with and without a table entry.
Then a booking's e-mails and pages are scanned: no raw IANA zone name, and one date shape."""

from __future__ import annotations

import datetime as dt
import html
import re
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from rapport.booking import outbox
from rapport.booking.models import AppointmentStatus, OutboxStatus, Party
from rapport.core.timezones import (
    clock_label,
    day_label,
    duration_label,
    moment_label,
    span_label,
    time_zone_choices,
    time_zone_label,
)
from tests.booking.factories import make_appointment, make_bookable_therapist
from tests.factories import TEST_PASSWORD, make_therapist_user, make_user


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


# (instant in UTC, zone, how a person reads it). Worked out by hand from each zone's rules:
# North America moves clocks at 2:00 local time on Sunday, March 8, 2026 (forward) and Sunday,
# November 1, 2026 (back); Newfoundland is UTC−3:30/−2:30; Arizona keeps UTC−7 all year;
# Lord Howe goes from UTC+11 back to UTC+10:30 at 2:00 on Sunday, April 5, 2026.
MOMENTS = [
    # Toronto, UTC−5 → −4 at 07:00 UTC on March 8; −4 → −5 at 06:00 UTC on November 1.
    (utc(2026, 3, 8, 6, 59), "America/Toronto",
     "Sunday, March 8, 2026 at 1:59 a.m. Eastern Time (Toronto)"),
    (utc(2026, 3, 8, 7, 0), "America/Toronto",
     "Sunday, March 8, 2026 at 3:00 a.m. Eastern Time (Toronto)"),
    (utc(2026, 11, 1, 4, 59), "America/Toronto",
     "Sunday, November 1, 2026 at 12:59 a.m. Eastern Time (Toronto)"),
    (utc(2026, 11, 1, 5, 30), "America/Toronto",
     "Sunday, November 1, 2026 at 1:30 a.m. Eastern Time (Toronto), before the clocks go back"),
    (utc(2026, 11, 1, 6, 30), "America/Toronto",
     "Sunday, November 1, 2026 at 1:30 a.m. Eastern Time (Toronto), after the clocks go back"),
    (utc(2026, 11, 1, 7, 0), "America/Toronto",
     "Sunday, November 1, 2026 at 2:00 a.m. Eastern Time (Toronto)"),
    # Winnipeg, an hour behind Toronto, changing at its own 2:00.
    (utc(2026, 3, 8, 7, 59), "America/Winnipeg",
     "Sunday, March 8, 2026 at 1:59 a.m. Central Time (Winnipeg)"),
    (utc(2026, 3, 8, 8, 0), "America/Winnipeg",
     "Sunday, March 8, 2026 at 3:00 a.m. Central Time (Winnipeg)"),
    (utc(2026, 11, 1, 6, 30), "America/Winnipeg",
     "Sunday, November 1, 2026 at 1:30 a.m. Central Time (Winnipeg), before the clocks go back"),
    (utc(2026, 11, 1, 7, 30), "America/Winnipeg",
     "Sunday, November 1, 2026 at 1:30 a.m. Central Time (Winnipeg), after the clocks go back"),
    # St. John's: 2:00 NST is 05:30 UTC in spring; 2:00 NDT is 04:30 UTC in autumn.
    (utc(2026, 3, 8, 5, 29), "America/St_Johns",
     "Sunday, March 8, 2026 at 1:59 a.m. Newfoundland Time (St. John's)"),
    (utc(2026, 3, 8, 5, 30), "America/St_Johns",
     "Sunday, March 8, 2026 at 3:00 a.m. Newfoundland Time (St. John's)"),
    (utc(2026, 11, 1, 4, 0), "America/St_Johns",
     "Sunday, November 1, 2026 at 1:30 a.m. Newfoundland Time (St. John's), before the clocks "
     "go back"),
    (utc(2026, 11, 1, 5, 0), "America/St_Johns",
     "Sunday, November 1, 2026 at 1:30 a.m. Newfoundland Time (St. John's), after the clocks "
     "go back"),
    # Phoenix: the same nights pass without a change; 2:30 a.m. exists, 1:30 a.m. happens once.
    (utc(2026, 3, 8, 9, 30), "America/Phoenix",
     "Sunday, March 8, 2026 at 2:30 a.m. Arizona Time (Phoenix)"),
    (utc(2026, 11, 1, 8, 30), "America/Phoenix",
     "Sunday, November 1, 2026 at 1:30 a.m. Arizona Time (Phoenix)"),
    (utc(2026, 7, 1, 19, 0), "America/Phoenix",
     "Wednesday, July 1, 2026 at 12:00 p.m. Arizona Time (Phoenix)"),
    # Lord Howe (no table entry): 1:30–2:00 shows twice, half an hour apart.
    (utc(2026, 4, 4, 14, 45), "Australia/Lord_Howe",
     "Sunday, April 5, 2026 at 1:45 a.m. Lord Howe time, before the clocks go back"),
    (utc(2026, 4, 4, 15, 15), "Australia/Lord_Howe",
     "Sunday, April 5, 2026 at 1:45 a.m. Lord Howe time, after the clocks go back"),
    # Midnight is 12:00 a.m. and belongs to the day it starts; noon is 12:00 p.m.
    (utc(2026, 12, 7, 5, 0), "America/Toronto",
     "Monday, December 7, 2026 at 12:00 a.m. Eastern Time (Toronto)"),
    (utc(2026, 12, 7, 17, 0), "America/Toronto",
     "Monday, December 7, 2026 at 12:00 p.m. Eastern Time (Toronto)"),
    (utc(2026, 12, 8, 4, 59), "America/Toronto",
     "Monday, December 7, 2026 at 11:59 p.m. Eastern Time (Toronto)"),
    # The same instant elsewhere, with and without a table entry.
    (utc(2026, 12, 7, 14, 0), "America/Toronto",
     "Monday, December 7, 2026 at 9:00 a.m. Eastern Time (Toronto)"),
    (utc(2026, 12, 7, 14, 0), "America/Vancouver",
     "Monday, December 7, 2026 at 6:00 a.m. Pacific Time (Vancouver)"),
    (utc(2026, 12, 7, 14, 0), "America/Halifax",
     "Monday, December 7, 2026 at 10:00 a.m. Atlantic Time (Halifax)"),
    (utc(2026, 12, 7, 14, 0), "America/Edmonton",
     "Monday, December 7, 2026 at 7:00 a.m. Mountain Time (Edmonton)"),
    (utc(2026, 12, 7, 14, 0), "America/Regina",
     "Monday, December 7, 2026 at 8:00 a.m. Saskatchewan Time (Regina)"),
    (utc(2026, 12, 7, 14, 0), "America/Indiana/Indianapolis",
     "Monday, December 7, 2026 at 9:00 a.m. Indianapolis time"),
    (utc(2026, 12, 7, 14, 0), "Asia/Kolkata",
     "Monday, December 7, 2026 at 7:30 p.m. Kolkata time"),
    (utc(2026, 12, 7, 14, 0), "UTC",
     "Monday, December 7, 2026 at 2:00 p.m. UTC"),
]  # fmt: skip


@pytest.mark.parametrize(("moment", "zone_name", "words"), MOMENTS)
def test_a_moment_reads_as_the_table_says(moment, zone_name, words):
    assert moment_label(moment, zoneinfo.ZoneInfo(zone_name)) == words
    # A zone given by name reads the same.
    assert moment_label(moment, zone_name) == words


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("America/Toronto", "Eastern Time (Toronto)"),
        ("America/Vancouver", "Pacific Time (Vancouver)"),
        ("America/St_Johns", "Newfoundland Time (St. John's)"),
        ("America/Halifax", "Atlantic Time (Halifax)"),
        ("America/Winnipeg", "Central Time (Winnipeg)"),
        ("America/Edmonton", "Mountain Time (Edmonton)"),
        ("America/Phoenix", "Arizona Time (Phoenix)"),
        ("America/Indiana/Indianapolis", "Indianapolis time"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires time"),
        ("Asia/Calcutta", "Calcutta time"),
        ("Europe/Berlin", "Berlin time"),
        ("UTC", "UTC"),
        ("Etc/UTC", "UTC"),
    ],
)
def test_a_zone_reads_in_words(name, words):
    assert time_zone_label(name) == words


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (dt.date(2026, 12, 7), "Monday, December 7, 2026"),
        (dt.date(2027, 1, 1), "Friday, January 1, 2027"),
        (dt.date(2028, 2, 29), "Tuesday, February 29, 2028"),
    ],
)
def test_a_day_always_has_its_weekday_and_year(day, words):
    assert day_label(day) == words


@pytest.mark.parametrize(
    ("wall", "words"),
    [
        (dt.time(0, 0), "12:00 a.m."),
        (dt.time(0, 5), "12:05 a.m."),
        (dt.time(9, 0), "9:00 a.m."),
        (dt.time(11, 59), "11:59 a.m."),
        (dt.time(12, 0), "12:00 p.m."),
        (dt.time(13, 30), "1:30 p.m."),
        (dt.time(23, 45), "11:45 p.m."),
    ],
)
def test_a_time_is_twelve_hour_with_the_period_written_out(wall, words):
    assert clock_label(wall) == words


@pytest.mark.parametrize(
    ("minutes", "words"),
    [(15, "15 minutes"), (1, "1 minute"), (60, "1 hour"), (90, "1 hour 30 minutes"),
     (120, "2 hours")],
)  # fmt: skip
def test_a_length_reads_in_words(minutes, words):
    assert duration_label(dt.timedelta(minutes=minutes)) == words


def test_a_booked_time_is_the_moment_then_its_length():
    start = utc(2026, 12, 7, 14, 0)
    assert span_label(start, start + dt.timedelta(minutes=50), "America/Toronto") == (
        "Monday, December 7, 2026 at 9:00 a.m. Eastern Time (Toronto), for 50 minutes"
    )


def test_the_zone_menu_keeps_iana_values_and_shows_words():
    choices = time_zone_choices("Asia/Tokyo")
    assert choices[0] == ("Asia/Tokyo", "Tokyo time")
    assert ("America/Toronto", "Eastern Time (Toronto)") in choices
    assert all(zoneinfo.ZoneInfo(value) for value, _ in choices)
    assert not [label for _, label in choices if "/" in label or "_" in label]
    # A common zone is not offered twice.
    assert [value for value, _ in time_zone_choices("America/Toronto")].count(
        "America/Toronto"
    ) == 1


def test_the_template_filters_write_the_same_words():
    template = Template(
        "{% load core_dates %}"
        "{{ moment|moment_label:'America/St_Johns' }}|{{ moment|day_label:'Asia/Tokyo' }}|"
        "{{ moment|clock_label:'America/Vancouver' }}|{{ day|day_label }}|{{ wall|clock_label }}|"
        "{{ zone|time_zone_label }}|{{ nothing|moment_label }}{{ nothing|day_label }}|"
        "{{ moment|moment_label }}"
    )
    rendered = template.render(
        Context(
            {
                "moment": utc(2026, 12, 7, 14, 0),
                "day": dt.date(2026, 12, 25),
                "wall": dt.time(17, 15),
                "zone": "America/Halifax",
                "nothing": None,
            }
        )
    )
    assert html.unescape(rendered).split("|") == [
        "Monday, December 7, 2026 at 10:30 a.m. Newfoundland Time (St. John's)",
        "Monday, December 7, 2026",  # 11:00 p.m. in Tokyo: still the 7th
        "6:00 a.m.",
        "Friday, December 25, 2026",
        "5:15 p.m.",
        "Atlantic Time (Halifax)",
        "",
        # Without a zone: the active one, UTC for pages that have no viewer's zone.
        "Monday, December 7, 2026 at 2:00 p.m. UTC",
    ]


def test_a_request_in_french_still_reads_canadian_english():
    # The site is written in Canadian English only; a browser asking for French gets the same.
    template = Template("{% load core_dates %}{{ moment|moment_label:'America/Toronto' }}")
    with translation.override("fr-ca"):
        rendered = template.render(Context({"moment": utc(2026, 12, 7, 14, 0)}))
    assert html.unescape(rendered) == "Monday, December 7, 2026 at 9:00 a.m. Eastern Time (Toronto)"


def test_the_filters_read_the_exports_iso_texts_and_leave_other_text_alone():
    template = Template(
        "{% load core_dates %}{{ a|moment_label }}|{{ b|day_label }}|{{ c|moment_label }}|"
        "{{ d|moment_label:'America/Toronto' }}"
    )
    rendered = template.render(
        Context(
            {
                "a": "2026-12-07T14:00:00+00:00",
                "b": "2026-12-25",
                "c": "not a time",
                "d": "2026-12-07T14:00:00",  # naive: stored moments are UTC
            }
        )
    )
    assert html.unescape(rendered).split("|") == [
        "Monday, December 7, 2026 at 2:00 p.m. UTC",
        "Friday, December 25, 2026",
        "not a time",
        "Monday, December 7, 2026 at 9:00 a.m. Eastern Time (Toronto)",
    ]


TEMPLATE_DATE_FILTER = re.compile(
    r"\|\s*(date|time)\b(?::\s*(['\"])(.*?)\2)?|naturalday|naturaltime"
)
# Machine formats a template may still ask |date for: an ISO 8601 <time datetime>, an id.
MACHINE_FORMATS = {"c", "Ymd"}


def test_no_template_writes_a_date_or_time_for_people_with_djangos_filters():
    """Pages and e-mails write days and times through core_dates, never |date or |time (whose
    output follows Django's own formats and the request's language)."""
    root = Path(__file__).resolve().parents[2] / "rapport"
    found = []
    for path in root.glob("**/templates/**/*"):
        if path.suffix not in {".html", ".txt"}:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in TEMPLATE_DATE_FILTER.finditer(line):
                if match.group(1) and match.group(3) in MACHINE_FORMATS:
                    continue
                found.append(f"{path.relative_to(root)}:{number}: {match.group(0)}")
    assert found == []


# --- a booking's e-mails and pages ----------------------------------------------------------

IANA_NAME = re.compile(r"\b[A-Z][a-z]+/[A-Z][A-Za-z_]+\b")
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
# Any mention of a month with a day number, whichever order.
ANY_DATE = re.compile(rf"\b(?:\d{{1,2}} (?:{MONTHS})|(?:{MONTHS}) \d{{1,2}})\b")
THE_DATE = re.compile(rf"\b(?:{WEEKDAYS}), (?:{MONTHS}) \d{{1,2}}, \d{{4}}\b")
OTHER_SHAPES = [
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),  # ISO days
    re.compile(r"\b\d{1,2}:\d{2}(?! [ap]\.m\.)"),  # a clock without a.m./p.m. (24-hour)
    re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d"),  # short weekdays
    re.compile(r"\b(?:EST|EDT|PST|PDT|CST|CDT|MST|MDT|AST|ADT|NST|NDT)\b"),  # abbreviations
]


def page_text(markup: str) -> str:
    """What a person reads: the page without scripts, styles and tags (a <select>'s values
    and links' addresses are attributes, so they go)."""
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", markup)
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def written_moment(moment: dt.datetime, zone_name: str, words: str) -> str:
    """The moment as the site writes it, worked out with the standard library."""
    local = moment.astimezone(zoneinfo.ZoneInfo(zone_name))
    hour = local.hour % 12 or 12
    period = "a.m." if local.hour < 12 else "p.m."
    return f"{local:%A}, {local:%B} {local.day}, {local.year} at {hour}:{local:%M} {period} {words}"


def assert_one_shape(name: str, text: str) -> int:
    """No raw zone name; every date is "Weekday, Month D, YYYY"; no other shape. Returns how
    many dates the text holds."""
    text = re.sub(r"\S+://\S+", " ", text)  # links: a port is no clock
    assert not IANA_NAME.findall(text), (name, IANA_NAME.findall(text))
    for match in ANY_DATE.finditer(text):
        start = max(0, match.start() - 12)
        window = text[start : match.end() + 6]
        assert THE_DATE.search(window), (name, window)
    for shape in OTHER_SHAPES:
        assert not shape.search(text), (name, shape.pattern, shape.search(text))
    return len(THE_DATE.findall(text))


def attachment_text(attachment) -> str:
    """An attachment's text, whether Django holds it as a tuple or as a MIME part."""
    if isinstance(attachment, tuple):
        return str(attachment[1])
    payload = attachment.get_payload(decode=True)
    return payload.decode() if isinstance(payload, bytes) else str(payload)


@pytest.mark.parametrize(
    "text",
    [
        "Sunday 8 March 2026, 10:00–10:15 (America/Toronto, EDT)",  # the e-mails' old shape
        "Tue 15 Jul, 09:00",  # the old subjects'
        "Tuesday 3 December, 10:30 (Toronto time)",  # the old cards'
        "Monday, December 7 at 9:00 a.m. Eastern Time (Toronto)",  # no year
        "since 2026-12-07",
        "Shown in Eastern — Toronto (America/Toronto)",
    ],
)
def test_the_scan_catches_the_old_shapes(text):
    with pytest.raises(AssertionError):
        assert_one_shape("old", text)


def test_the_scan_passes_the_site_s_own_shape():
    text = "Monday, December 7, 2026 at 9:00 a.m. Eastern Time (Toronto), for 15 minutes"
    assert assert_one_shape("new", text) == 1


def deliver(appointment, purpose: str, recipient: Party):
    row = outbox.outbox_write(
        appointment=appointment,
        purpose=purpose,
        recipient=recipient,
        due_at=timezone.now() + dt.timedelta(hours=1),
    )
    assert row is not None
    assert outbox.outbox_deliver(email_id=row.pk, now=row.due_at) == OutboxStatus.SENT
    return row


@pytest.mark.django_db
def test_a_bookings_e_mails_and_pages_name_no_raw_zone_and_write_one_date_shape(
    reference_data, mailoutbox
):
    therapist = make_bookable_therapist(
        display_name="Ada Okafor",
        time_zone="America/Toronto",
        user=make_therapist_user(mfa=True),
    )
    starts_at = (timezone.now() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    client_fields: dict[str, Any] = {
        "client_name": "Maya Lindqvist",
        "client_email": "maya@example.org",
        "client_time_zone": "America/Vancouver",
    }
    booked = make_appointment(therapist, starts_at, **client_fields)
    make_appointment(
        therapist,
        starts_at + dt.timedelta(hours=2),
        status=AppointmentStatus.REQUESTED,
        **client_fields,
    )
    cancelled = make_appointment(
        therapist,
        starts_at + dt.timedelta(hours=4),
        status=AppointmentStatus.CANCELLED,
        **client_fields,
    )
    for purpose in (outbox.PURPOSE_BOOKED, outbox.PURPOSE_REMINDER_24H):
        deliver(booked, purpose, Party.CLIENT)
        deliver(booked, purpose, Party.THERAPIST)
    deliver(booked, outbox.PURPOSE_CONFIRMED, Party.CLIENT)
    deliver(cancelled, outbox.PURPOSE_CANCELLED, Party.CLIENT)
    deliver(cancelled, outbox.PURPOSE_CANCELLED, Party.THERAPIST)

    for_client = written_moment(starts_at, "America/Vancouver", "Pacific Time (Vancouver)")
    for_therapist = written_moment(starts_at, "America/Toronto", "Eastern Time (Toronto)")
    assert len(mailoutbox) == 7
    for message in mailoutbox:
        calendar_words = "".join(
            line
            for text in map(attachment_text, message.attachments)
            for line in text.splitlines(keepends=True)
            if line.startswith(("SUMMARY", "DESCRIPTION", "LOCATION", " "))
        )
        whole = f"{message.subject}\n{message.body}\n{calendar_words}"
        assert assert_one_shape(message.subject, whole) >= 1
        # The client reads their own clock, the therapist theirs, in the same words as pages.
        if message.to == ["maya@example.org"]:
            assert for_client in message.body or "Cancelled" in message.subject
        else:
            assert for_therapist in message.body or "Cancelled" in message.subject

    # The client's manage page and the therapist's practice home.
    manage = Client().get(outbox.manage_url(booked))
    assert manage.status_code == 200
    manage_text = page_text(manage.content.decode())
    assert assert_one_shape("manage page", manage_text) >= 1
    assert for_client in manage_text
    assert for_therapist in manage_text

    # The picker a client books from, in their zone (its menu's values stay IANA names).
    picker = Client().get(
        reverse("booking:consultation_book", args=[therapist.public_id]),
        {"tz": "America/Vancouver"},
    )
    assert picker.status_code == 200
    assert '<option value="America/Vancouver" selected>' in picker.content.decode()
    picker_text = page_text(picker.content.decode())
    assert assert_one_shape("picker", picker_text) >= 1
    assert "shown in Pacific Time (Vancouver)" in picker_text

    practice = Client()
    assert therapist.user is not None
    practice.force_login(therapist.user)
    home = practice.get(reverse("booking:practice_home"))
    assert home.status_code == 200
    home_text = page_text(home.content.decode())
    assert assert_one_shape("practice home", home_text) >= 1
    assert for_therapist in home_text
    assert "Times are shown in your time zone, Eastern Time (Toronto)." in home_text


@pytest.mark.django_db
def test_the_readable_export_writes_its_moments_in_words():
    user = make_user()
    browser = Client()
    browser.force_login(user)
    browser.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})

    page = page_text(browser.get(reverse("accounts:export_html")).content.decode())
    readable = page.split("The complete record")[0]  # the raw record below keeps ISO 8601

    joined = user.date_joined.astimezone(dt.UTC)
    assert f"{joined:%A}, {joined:%B} {joined.day}, {joined.year} at " in readable
    assert assert_one_shape("export", readable) >= 2  # exported, joined
