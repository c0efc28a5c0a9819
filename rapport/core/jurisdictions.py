"""The jurisdictions where Rapport's therapists are licensed: ISO 3166-2 subdivisions of Canada
and the United States. Licensure is by province or state, so these codes are what "licensed in
the client's jurisdiction" compares.
"""

from __future__ import annotations

from typing import NamedTuple


class Jurisdiction(NamedTuple):
    code: str  # ISO 3166-2, e.g. "CA-ON"
    name: str
    country_code: str  # ISO 3166-1 alpha-2


_CANADA = {
    "AB": "Alberta",
    "BC": "British Columbia",
    "MB": "Manitoba",
    "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador",
    "NS": "Nova Scotia",
    "NT": "Northwest Territories",
    "NU": "Nunavut",
    "ON": "Ontario",
    "PE": "Prince Edward Island",
    "QC": "Quebec",
    "SK": "Saskatchewan",
    "YT": "Yukon",
}

_UNITED_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip

# GeoNames numbers Canadian provinces with its own admin1 codes; US states use postal codes.
GEONAMES_CANADA_ADMIN1 = {
    "01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS", "08": "ON",
    "09": "PE", "10": "QC", "11": "SK", "12": "YT", "13": "NT", "14": "NU",
}  # fmt: skip

JURISDICTIONS: tuple[Jurisdiction, ...] = tuple(
    [Jurisdiction(f"CA-{code}", name, "CA") for code, name in _CANADA.items()]
    + [Jurisdiction(f"US-{code}", name, "US") for code, name in _UNITED_STATES.items()]
)
JURISDICTIONS_BY_CODE = {jurisdiction.code: jurisdiction for jurisdiction in JURISDICTIONS}


def is_valid_jurisdiction_code(code: str) -> bool:
    return code in JURISDICTIONS_BY_CODE


def jurisdiction_for_geonames(country_code: str, admin1_code: str) -> str | None:
    """The ISO 3166-2 code for a GeoNames (country, admin1) pair, or None outside CA/US."""
    if country_code == "CA":
        province = GEONAMES_CANADA_ADMIN1.get(admin1_code)
        return f"CA-{province}" if province else None
    if country_code == "US" and admin1_code in _UNITED_STATES:
        return f"US-{admin1_code}"
    return None
