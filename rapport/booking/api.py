"""Booking's part of ``/api/v1/``: free times, consultations, cancel and reschedule."""

from __future__ import annotations

from ninja import Router

# Mounted at the API root without session auth: booking is open to people without accounts;
# changes to an existing consultation prove themselves with the signed token from its e-mail.
public_router = Router(tags=["booking"])
