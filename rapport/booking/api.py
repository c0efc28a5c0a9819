"""Booking's part of ``/api/v1/``: free times, consultations, cancel and reschedule.

The handlers call the same access helpers and services as the pages; every failure a client can
cause is an ``application/problem+json`` answer (400, 404 or 409), never a 500, and a refused
booking writes nothing (the services run in one transaction each).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import AwareDatetime

from rapport.booking import access, services, slots, tokens
from rapport.booking.errors import BadToken, FreeTime, InvalidTransition, SlotTaken, SlotUnavailable
from rapport.booking.models import Appointment, BookingPolicy, Party
from rapport.core.problems import problem_openapi_response, problem_response
from rapport.core.timezones import zone_or_none
from rapport.directory.models import TherapistProfile

# Mounted at the API root without session auth: booking is open to people without accounts;
# changes to an existing consultation prove themselves with the signed token from its e-mail.
# There is no session here, so no CSRF either, and request.user is never consulted.
public_router = Router(tags=["booking"])

# Free times change with every booking: caches may keep an answer only if they ask every time.
SLOTS_CACHE_CONTROL = "no-cache"
# Answers to changes carry the manage token or a client's details: nothing may keep them.
PRIVATE_CACHE_CONTROL = "no-store"
MAX_SPAN = dt.timedelta(days=31)
# How many next free times a 409 offers instead of the one that was taken.
NEXT_FREE_OFFERED = 5

PARAM_START = "start"
PARAM_END = "end"
PARAM_TZ = "tz"

SLOT_TAKEN_TITLE = "That time was just taken"
SLOT_UNAVAILABLE_TITLE = "That time cannot be booked"
NOT_CHANGEABLE_TITLE = "This consultation cannot be changed that way"


# --- schemas -------------------------------------------------------------------------------


class FreeTimeOut(Schema):
    starts_at: str = Field(description="Start in UTC, ISO 8601 with `Z`.")
    ends_at: str = Field(description="End in UTC, ISO 8601 with `Z`.")
    local_starts_at: str = Field(description="Start in the asked-for zone, with its offset.")
    local_ends_at: str = Field(description="End in the asked-for zone, with its offset.")


class SlotsOut(Schema):
    therapist_id: uuid.UUID
    therapist_time_zone: str = Field(description="The therapist's IANA zone.")
    time_zone: str = Field(description="The IANA zone of the local_* times (the `tz` asked for).")
    start: str = Field(description="Start of the period searched, in UTC.")
    end: str = Field(description="End of the period searched (exclusive), in UTC.")
    slots: list[FreeTimeOut] = Field(description="Free consultation times, earliest first.")


class SlotsParams(Schema):
    """Only documentation: the handler parses the raw values itself, so that each bad value is
    a 400 problem naming its parameter in the same words as everywhere else."""

    start: str | None = Field(
        None,
        description=(
            "Beginning of the period: a date (`2026-03-02`, midnight in `tz`) or a date and time "
            "with an offset (`2026-03-02T09:00:00-05:00` or `…Z`). Default: now."
        ),
    )
    end: str | None = Field(
        None,
        description=(
            "End of the period (exclusive): a date (that whole day is included) or a date and "
            "time with an offset. Default: the end of the therapist's booking horizon. At most "
            "31 days after start."
        ),
    )
    tz: str | None = Field(
        None,
        description=(
            "IANA zone for the local times in the answer and for dates given without a time, "
            "e.g. `America/Vancouver`. Default: the therapist's zone."
        ),
    )


class ConsultationIn(Schema):
    therapist_id: uuid.UUID = Field(description="The therapist's public id.")
    starts_at: AwareDatetime = Field(
        description="One of the free times' starts_at, with an offset or `Z`."
    )
    name: str = Field(max_length=120, description="How the therapist should address the client.")
    email: str = Field(max_length=254, description="Where the confirmation and links are sent.")
    time_zone: str = Field(
        max_length=64, description="The client's IANA zone, for the times in e-mails."
    )
    phone: str = Field(
        default="",
        max_length=40,
        description="The number the therapist calls: required when the therapist consults by "
        "phone, ignored otherwise. Only that therapist sees it.",
    )


class AppointmentOut(Schema):
    id: uuid.UUID = Field(description="The consultation's public id.")
    status: str = Field(description="requested, confirmed, declined, cancelled or expired.")
    starts_at: dt.datetime
    ends_at: dt.datetime
    therapist_id: uuid.UUID


class BookedOut(AppointmentOut):
    manage_token: str = Field(
        description=(
            "The bearer secret for cancelling or rescheduling this consultation through the "
            "API (the same as the link in the confirmation e-mail). Keep it private."
        )
    )


class CancelIn(Schema):
    token: str = Field(max_length=500, description="The manage token from the booking answer.")
    reason: str = Field(max_length=500, description="Told to the therapist; required.")


class RescheduleIn(Schema):
    token: str = Field(max_length=500, description="The manage token from the booking answer.")
    starts_at: AwareDatetime = Field(description="A free time's starts_at, with an offset.")
    reason: str = Field(
        "",
        max_length=500,
        description="Optional note for the therapist, shown with the new time.",
    )


# --- OpenAPI documentation of the problem answers -------------------------------------------


# What a 409 for a taken time carries besides the problem itself.
NEXT_FREE_PROPERTY = {
    "next_free": {
        "type": "array",
        "description": "The next free times, to offer instead.",
        "items": {
            "type": "object",
            "properties": {
                name: {"type": "string"}
                for name in ("starts_at", "ends_at", "local_starts_at", "local_ends_at")
            },
        },
    }
}


def _problem_doc(description: str, *, with_next_free: bool = False) -> dict[str, Any]:
    return problem_openapi_response(
        description, extra_properties=NEXT_FREE_PROPERTY if with_next_free else None
    )


# --- helpers -------------------------------------------------------------------------------


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _local_text(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat()


def _free_time(free: FreeTime, zone: zoneinfo.ZoneInfo) -> dict[str, str]:
    return {
        "starts_at": _utc_text(free.starts_at),
        "ends_at": _utc_text(free.ends_at),
        "local_starts_at": _local_text(free.starts_at, zone),
        "local_ends_at": _local_text(free.ends_at, zone),
    }


class _BadParameter(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _invalid(field: str, message: str) -> HttpResponse:
    return problem_response(
        status=400,
        title="Invalid request",
        detail=message,
        errors=[{"field": field, "message": message}],
    )


def _zone(name: str, *, field: str) -> zoneinfo.ZoneInfo:
    zone = zone_or_none(name)
    if zone is None:
        raise _BadParameter(field, f"Give {field} as an IANA time zone name, e.g. America/Toronto.")
    return zone


# A "+" in a query string arrives as a space when the client did not encode it: "…09:00 01:00"
# can only have meant "…09:00+01:00", so take it as that rather than refuse it.
_UNENCODED_PLUS = re.compile(r"^(?P<moment>.*\d) (?P<offset>\d\d(:?\d\d)?)$")


# Far-off years have no free times, and near the ends of datetime's range the arithmetic on
# them (a day more, 31 days more) would overflow: they are refused as unusable instead.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


def _instant(field: str, raw: str, zone: zoneinfo.ZoneInfo, *, end_of_day: bool) -> dt.datetime:
    moment = _parsed_instant(field, raw, zone, end_of_day=end_of_day)
    if not EARLIEST <= moment < LATEST:
        raise _BadParameter(field, f"Give {field} between the years 1970 and 8999.")
    return moment


def _parsed_instant(
    field: str, raw: str, zone: zoneinfo.ZoneInfo, *, end_of_day: bool
) -> dt.datetime:
    text = raw.strip()
    repaired = _UNENCODED_PLUS.match(text)
    if repaired:
        text = f"{repaired['moment']}+{repaired['offset']}"
    message = (
        f"Give {field} as a date (2026-03-02) or a date and time with an offset "
        "(2026-03-02T09:00:00-05:00)."
    )
    if not text.isascii() or len(text) > 40:
        raise _BadParameter(field, message)
    if len(text) == 10:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise _BadParameter(field, message) from None
        if end_of_day:
            if day == dt.date.max:
                raise _BadParameter(field, message)
            day += dt.timedelta(days=1)
        # Midnight in the zone asked for (the start of that day where the person is).
        try:
            return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        except OverflowError:
            raise _BadParameter(field, message) from None
    try:
        # RFC 3339 §5.6 allows a lowercase "t" and "z"; fromisoformat knows only "Z".
        moment = dt.datetime.fromisoformat(text.upper())
    except ValueError:
        raise _BadParameter(field, message) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _BadParameter(field, f"Give {field} with an offset or Z, e.g. 2026-03-02T14:00:00Z.")
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise _BadParameter(field, message) from None


def _single(request: HttpRequest, name: str) -> str | None:
    values = request.GET.getlist(name)
    if len(values) > 1:
        raise _BadParameter(name, f"Give {name} once.")
    return values[0] if values and values[0].strip() else None


def _horizon_days(therapist: TherapistProfile) -> int:
    # A read must not write: without a policy row the model's default horizon applies, which
    # is the policy booking_policy_for() would create.
    try:
        return therapist.booking_policy.horizon_days
    except BookingPolicy.DoesNotExist:
        default = BookingPolicy._meta.get_field("horizon_days").get_default()
        return int(default)


def _appointment(appointment: Appointment) -> dict[str, Any]:
    return {
        "id": appointment.public_id,
        "status": appointment.status,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "therapist_id": appointment.therapist.public_id,
    }


# --- booking's errors as problems, on every endpoint (registered in BookingConfig.ready()) ---


def slot_taken_problem(request: HttpRequest, error: SlotTaken) -> HttpResponse:
    """409 with the next free times, in the zone of whoever asked (UTC if not known)."""
    zone = zone_or_none(error.time_zone or "") or zoneinfo.ZoneInfo("UTC")
    return problem_response(
        status=409,
        title=SLOT_TAKEN_TITLE,
        detail=error.message,
        next_free=[_free_time(free, zone) for free in error.next_free[:NEXT_FREE_OFFERED]],
    )


def slot_unavailable_problem(request: HttpRequest, error: SlotUnavailable) -> HttpResponse:
    return problem_response(
        status=400,
        title=SLOT_UNAVAILABLE_TITLE,
        detail=error.message,
        errors=[{"field": "starts_at", "message": error.message}],
    )


def not_changeable_problem(request: HttpRequest, error: InvalidTransition) -> HttpResponse:
    return problem_response(status=409, title=NOT_CHANGEABLE_TITLE, detail=error.message)


# The services name the client's fields as the model does; the API's body names them shorter.
_BODY_FIELD = {
    "client_name": "name",
    "client_email": "email",
    "client_time_zone": "time_zone",
    "client_phone": "phone",
}


def _invalid_client(error: DjangoValidationError) -> HttpResponse:
    if hasattr(error, "error_dict"):
        errors = [
            {"field": _BODY_FIELD.get(field, field), "message": " ".join(messages)}
            for field, messages in error.message_dict.items()
        ]
    else:
        errors = [{"field": "", "message": message} for message in error.messages]
    return problem_response(
        status=400, title="Invalid request", detail=errors[0]["message"], errors=errors
    )


def _not_found() -> HttpResponse:
    return problem_response(status=404, title="Not found")


def _appointment_for_token(id: str, token: str) -> Appointment | None:
    """The appointment the manage token names, if it is the one in the path. Anything else is
    the same None, so a caller cannot learn whether some id exists."""
    try:
        public_id = uuid.UUID(id)
        appointment = access.get_appointment_for_token(token=token, purpose=tokens.PURPOSE_MANAGE)
    except (ValueError, BadToken):
        return None
    if appointment.public_id != public_id:
        return None
    return appointment


# --- endpoints -----------------------------------------------------------------------------


@public_router.get(
    "/therapists/{id}/slots",
    response={200: SlotsOut},
    summary="A therapist's free consultation times",
    description=(
        "Free 15-minute-or-so consultation times between `start` and `end`, in UTC and in the "
        "zone `tz`. No sign-in needed. A therapist who cannot be booked now (not listed, or "
        "offering no consultation) is a 404, exactly like an id that never existed. A "
        "malformed time, an end before the start, a period over 31 days or an unknown zone is "
        "a 400 problem naming the parameter in `errors[].field`."
    ),
    openapi_extra={
        "responses": {
            "400": _problem_doc("A parameter that cannot be used"),
            "404": _problem_doc("No bookable therapist has this id"),
        }
    },
)
def therapist_slots(
    request: HttpRequest,
    response: HttpResponse,
    params: Query[SlotsParams],
    id: str = Path(..., description="The therapist's public id (a UUID)."),
) -> dict[str, Any] | HttpResponse:
    try:
        public_id = uuid.UUID(id)
    except ValueError:
        return _not_found()
    therapist = access.get_bookable_therapist(public_id)
    now = timezone.now()
    try:
        raw_zone = _single(request, PARAM_TZ)
        zone = _zone(raw_zone or therapist.time_zone, field=PARAM_TZ)
        raw_start = _single(request, PARAM_START)
        raw_end = _single(request, PARAM_END)
        start = (
            now if raw_start is None else _instant(PARAM_START, raw_start, zone, end_of_day=False)
        )
        if raw_end is None:
            end = min(now + dt.timedelta(days=_horizon_days(therapist)), start + MAX_SPAN)
            end = max(end, start)
        else:
            end = _instant(PARAM_END, raw_end, zone, end_of_day=True)
            if end <= start:
                raise _BadParameter(PARAM_END, "Give an end after the start.")
            if end - start > MAX_SPAN:
                raise _BadParameter(PARAM_END, "Ask for at most 31 days at a time.")
    except _BadParameter as error:
        return _invalid(error.field, error.message)
    free = (
        slots.therapist_free_times(therapist=therapist, start=start, end=end, now=now)
        if end > start
        else []
    )
    response["Cache-Control"] = SLOTS_CACHE_CONTROL
    return {
        "therapist_id": therapist.public_id,
        "therapist_time_zone": therapist.time_zone,
        "time_zone": zone.key,
        "start": _utc_text(start),
        "end": _utc_text(end),
        "slots": [_free_time(item, zone) for item in free],
    }


@public_router.post(
    "/consultations",
    response={201: BookedOut},
    summary="Book a free consultation",
    description=(
        "Books one of the free times from `/therapists/{id}/slots`. When the therapist confirms "
        "requests by hand the status is `requested`, otherwise `confirmed`; either way the "
        "client gets an e-mail with a calendar invitation and their links. No sign-in needed.\n\n"
        "A time someone else booked first is a 409 problem titled "
        f'"{SLOT_TAKEN_TITLE}" with the next free times in `next_free`; a time that was never '
        "bookable (past, too soon, too far ahead, off the grid) or an invalid name, e-mail or "
        "zone is a 400 problem naming the field."
    ),
    openapi_extra={
        "responses": {
            "400": _problem_doc("Invalid input, or a time that cannot be booked"),
            "404": _problem_doc("No bookable therapist has this id"),
            "409": _problem_doc("Someone booked that time first", with_next_free=True),
        }
    },
)
def consultation_book(
    request: HttpRequest, response: HttpResponse, payload: ConsultationIn
) -> Status[Any] | HttpResponse:
    therapist = access.get_bookable_therapist(payload.therapist_id)
    try:
        appointment = services.consultation_book(
            therapist=therapist,
            starts_at=payload.starts_at,
            client_name=payload.name,
            client_email=payload.email,
            client_time_zone=payload.time_zone,
            client_phone=payload.phone,
        )
    except DjangoValidationError as error:
        # Not a domain error but input: named by the body's fields, not the model's.
        return _invalid_client(error)
    response["Cache-Control"] = PRIVATE_CACHE_CONTROL
    body = _appointment(appointment)
    body["manage_token"] = tokens.appointment_token_make(
        appointment=appointment, purpose=tokens.PURPOSE_MANAGE
    )
    return Status(201, body)


@public_router.post(
    "/consultations/{id}/cancel",
    response={200: AppointmentOut},
    summary="Cancel a consultation",
    description=(
        "The client cancels with the manage token they got when booking. A token that is not "
        "valid, or names another consultation, is a 404 (whether the id exists is not "
        "revealed); a consultation that already ended is a 409."
    ),
    openapi_extra={
        "responses": {
            "400": _problem_doc("Invalid input"),
            "404": _problem_doc("No consultation for this id and token"),
            "409": _problem_doc("The consultation has already ended"),
        }
    },
)
def consultation_cancel(
    request: HttpRequest,
    response: HttpResponse,
    payload: CancelIn,
    id: str = Path(..., description="The consultation's public id (a UUID)."),
) -> dict[str, Any] | HttpResponse:
    appointment = _appointment_for_token(id, payload.token)
    if appointment is None:
        return _not_found()
    appointment = services.appointment_cancel(
        appointment=appointment, by=Party.CLIENT, reason=payload.reason
    )
    response["Cache-Control"] = PRIVATE_CACHE_CONTROL
    return _appointment(appointment)


@public_router.post(
    "/consultations/{id}/reschedule",
    response={200: AppointmentOut},
    summary="Move a consultation to another free time",
    description=(
        "The client moves the consultation with the manage token they got when booking (the "
        "id and the token stay the same). A time someone else booked first is a 409 problem "
        f'titled "{SLOT_TAKEN_TITLE}" with the next free times; a consultation that already '
        "ended is a 409; a bad token is a 404."
    ),
    openapi_extra={
        "responses": {
            "400": _problem_doc("Invalid input, or a time that cannot be booked"),
            "404": _problem_doc("No consultation for this id and token"),
            "409": _problem_doc(
                "Someone booked that time first, or the consultation has already ended",
                with_next_free=True,
            ),
        }
    },
)
def consultation_reschedule(
    request: HttpRequest,
    response: HttpResponse,
    payload: RescheduleIn,
    id: str = Path(..., description="The consultation's public id (a UUID)."),
) -> dict[str, Any] | HttpResponse:
    appointment = _appointment_for_token(id, payload.token)
    if appointment is None:
        return _not_found()
    appointment = services.appointment_reschedule(
        appointment=appointment,
        starts_at=payload.starts_at,
        by=Party.CLIENT,
        reason=payload.reason,
    )
    response["Cache-Control"] = PRIVATE_CACHE_CONTROL
    return _appointment(appointment)
