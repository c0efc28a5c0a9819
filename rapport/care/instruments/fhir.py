"""A completed check-in as an HL7 FHIR R4 QuestionnaireResponse, for the data export and the API.

Each answered item becomes an `item` with its `linkId` (the item id), its text, and one answer
as a `valueCoding`: `code` is the option's value written as a string, `display` its label — the
label keeps the answer readable without the definition, the code keeps it machine-comparable.
Blank items are left out (FHIR has no "unanswered" answer). `questionnaire` is the canonical
reference `<base><slug>|<version>`, so each response names the exact version it answered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from rapport.care.instruments.model import Instrument
from rapport.care.instruments.scoring import validate_answers

CANONICAL_BASE = "urn:rapport:instrument:"


def questionnaire_canonical(instrument: Instrument, *, base: str = CANONICAL_BASE) -> str:
    return f"{base}{instrument.slug}|{instrument.version}"


def questionnaire_response(
    instrument: Instrument,
    answers: Mapping[str, int | None],
    *,
    authored: dt.datetime,
    subject_reference: str,
    canonical_base: str = CANONICAL_BASE,
) -> dict[str, Any]:
    """A FHIR R4 QuestionnaireResponse (status "completed") as plain JSON-ready values.
    `authored` must carry its UTC offset; answers are validated as `score` does."""
    if authored.tzinfo is None or authored.utcoffset() is None:
        raise ValueError("authored needs a time zone: FHIR dateTime values with a time carry one")
    if not subject_reference.strip():
        raise ValueError("subject_reference must name the person the answers are about")
    validate_answers(instrument, answers)
    items = []
    for item in instrument.items:
        value = answers.get(item.id)
        if value is None:
            continue
        items.append(
            {
                "linkId": item.id,
                "text": item.text,
                "answer": [{"valueCoding": {"code": str(value), "display": item.label_for(value)}}],
            }
        )
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": questionnaire_canonical(instrument, base=canonical_base),
        "status": "completed",
        "subject": {"reference": subject_reference},
        "authored": authored.isoformat(timespec="seconds"),
    }
    if items:
        response["item"] = items
    return response
