"""Which time zone names Rapport accepts from outside: UTC and the tz database's geographic
Area/Location names, and nothing else the host's zone list happens to hold."""

from __future__ import annotations

import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from rapport.core.timezones import is_canonical_zone_name, zone_or_none
from rapport.core.validators import validate_time_zone

ACCEPTED = [
    "UTC",
    "America/Toronto",
    "America/St_Johns",
    "America/Argentina/Buenos_Aires",
    "America/Indiana/Indianapolis",
    "Europe/London",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
    "Antarctica/Troll",
    "Arctic/Longyearbyen",
    "Atlantic/Reykjavik",
    "Indian/Maldives",
    "Africa/Casablanca",
    # Older spellings the database keeps as links: browsers still report some of them.
    "Asia/Calcutta",
    "America/Buenos_Aires",
    # The database's own name for UTC, which a browser on a host set to UTC reports.
    "Etc/UTC",
]

REFUSED = [
    # The host's own setting and the database's placeholders.
    "localtime",
    "Factory",
    "posixrules",
    # The other trees of a system's zone directory.
    "posix/America/Toronto",
    "right/America/Toronto",
    "right/UTC",
    # Fixed offsets, with signs that read backwards, and rule names.
    "Etc/GMT+5",
    "Etc/GMT-14",
    "EST5EDT",
    "EST",
    "GMT",
    "UCT",
    "Zulu",
    # Old country aliases.
    "US/Eastern",
    "Canada/Newfoundland",
    "Brazil/East",
    "GB",
    "Japan",
    # Not zones at all.
    "",
    "America",
    "America/",
    "/Toronto",
    "america/toronto",
    "America/Toronto ",
    "Mars/Olympus_Mons",
    "../../etc/passwd",
    "America/" + "x" * 100,
]


@pytest.mark.parametrize("name", ACCEPTED)
def test_geographic_names_and_utc_are_accepted(name):
    assert is_canonical_zone_name(name)
    zone = zone_or_none(name)
    assert zone is not None
    assert zone.key == name
    validate_time_zone(name)


@pytest.mark.parametrize("name", REFUSED)
def test_everything_else_is_refused(name):
    assert not is_canonical_zone_name(name)
    assert zone_or_none(name) is None
    with pytest.raises(ValidationError) as raised:
        validate_time_zone(name)
    assert raised.value.code == "invalid_time_zone"


def test_the_hosts_list_holds_names_that_are_refused():
    # Why the rule is more than "whatever zoneinfo lists": this host lists junk too.
    listed = zoneinfo.available_timezones()
    assert {"localtime", "Factory", "US/Eastern", "Etc/GMT+5"} & listed
    assert not any(is_canonical_zone_name(name) for name in ("localtime", "Factory"))


def test_every_accepted_name_is_listed_loads_and_has_a_geographic_area():
    areas = {
        "Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe",
        "Indian", "Pacific",
    }  # fmt: skip
    accepted = [name for name in zoneinfo.available_timezones() if is_canonical_zone_name(name)]
    assert len(accepted) > 300
    for name in accepted:
        assert name in ("UTC", "Etc/UTC") or (
            name.split("/")[0] in areas and name.count("/") in (1, 2)
        ), name
        assert zoneinfo.ZoneInfo(name).key == name
