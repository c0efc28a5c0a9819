"""The directory's part of a person's data export: their therapist listing, if they have one."""

from __future__ import annotations

from typing import Any

from rapport.directory.models import TherapistProfile


def therapist_profile_export(user: Any) -> dict[str, Any] | None:
    profile = (
        TherapistProfile.objects.filter(user=user)
        .select_related("designation")
        .prefetch_related("licences", "offices", "verification_decisions")
        .first()
    )
    if profile is None:
        return None
    return {
        "id": str(profile.public_id),
        "display_name": profile.display_name,
        "pronouns": profile.pronouns,
        "designation": profile.designation.code,
        "verification_status": profile.verification_status,
        "listed": profile.is_listed,
        "accepting_new_clients": profile.accepting_new_clients,
        "fee": {"amount_minor": profile.fee_minor, "currency": profile.currency},
        "licences": [
            {"jurisdiction": licence.jurisdiction_id, "number": licence.number}
            for licence in profile.licences.all()
        ],
        "offices": [
            {"address": office.street_address, "city": office.city}
            for office in profile.offices.all()
        ],
        "verification_decisions": [
            {
                "status": decision.status,
                "reason": decision.reason,
                "decided_at": decision.decided_at.isoformat(),
            }
            for decision in profile.verification_decisions.all()
        ],
    }
