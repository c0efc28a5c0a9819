"""Validators shared by several apps' models and forms."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from rapport.core.jurisdictions import is_valid_jurisdiction_code
from rapport.core.timezones import is_canonical_zone_name


def validate_time_zone(value: str) -> None:
    if not is_canonical_zone_name(value):
        raise ValidationError(
            "%(value)s is not an IANA time zone name (for example America/Toronto).",
            code="invalid_time_zone",
            params={"value": value},
        )


def validate_jurisdiction_code(value: str) -> None:
    if not is_valid_jurisdiction_code(value):
        raise ValidationError(
            "%(value)s is not a Canadian province or territory or a US state code "
            "in ISO 3166-2 form (for example CA-ON or US-NY).",
            code="invalid_jurisdiction",
            params={"value": value},
        )
