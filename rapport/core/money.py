"""Money as integer minor units plus an ISO 4217 currency: no floats anywhere near a fee."""

from __future__ import annotations

from django.db import models


class Currency(models.TextChoices):
    CAD = "CAD", "Canadian dollar"
    USD = "USD", "US dollar"


_SYMBOLS = {"CAD": "CA$", "USD": "US$"}


def format_money(amount_minor: int, currency: str) -> str:
    """``format_money(15000, "CAD")`` → ``"CA$150"``; cents are shown only when present."""
    whole, cents = divmod(abs(amount_minor), 100)
    sign = "-" if amount_minor < 0 else ""
    symbol = _SYMBOLS.get(currency, f"{currency} ")
    if cents:
        return f"{sign}{symbol}{whole:,}.{cents:02d}"
    return f"{sign}{symbol}{whole:,}"
