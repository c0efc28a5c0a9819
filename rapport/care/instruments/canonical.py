"""The canonical form of a definition, its content hash, and the version rule.

`content_hash` is the SHA-256 of the canonical JSON: every field but `version`, defaults written
out, shared options copied into each item, whole numbers without ".0", keys sorted, no spaces.
Two files that mean the same thing hash the same whatever their layout; any change of wording,
options, scoring, bands, critical items or norms changes the hash. `check_version` refuses a
definition whose slug and version are already known with a different hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from rapport.care.instruments.errors import DefinitionError
from rapport.care.instruments.model import Band, Instrument


def _plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _band_dicts(bands: Sequence[Band]) -> list[dict[str, Any]]:
    return [
        {"from": _plain_number(band.lower), "to": _plain_number(band.upper), "label": band.label}
        for band in bands
    ]


def definition_dict(instrument: Instrument) -> dict[str, Any]:
    """The instrument as a definition in canonical form (defaults written out, shared options
    copied into each item). Loading it again gives an equal instrument."""
    scoring: dict[str, Any] = {
        "method": instrument.method,
        "decimals": instrument.decimals,
        "prorate": {"max_missing": instrument.total.max_missing},
        "change_statistics": instrument.change_statistics,
    }
    if instrument.total.bands:
        scoring["bands"] = _band_dicts(instrument.total.bands)
    result: dict[str, Any] = {
        "slug": instrument.slug,
        "title": instrument.title,
        "version": instrument.version,
        "language": instrument.language,
        "instructions": instrument.instructions,
        "response_range": {"min": instrument.response_min, "max": instrument.response_max},
        "items": [
            {
                "id": item.id,
                "text": item.text,
                "options": [{"value": o.value, "label": o.label} for o in item.options],
                "reverse_scored": item.reverse_scored,
                "optional": item.optional,
            }
            for item in instrument.items
        ],
        "subscales": [
            {
                "id": subscale.id,
                "label": subscale.label,
                "items": list(subscale.item_ids),
                "prorate": {"max_missing": subscale.max_missing},
                **({"bands": _band_dicts(subscale.bands)} if subscale.bands else {}),
            }
            for subscale in instrument.subscales
        ],
        "scoring": scoring,
        "critical_items": [
            {"item": critical.item_id, "threshold": critical.threshold}
            for critical in instrument.critical_items
        ],
    }
    if instrument.licence:
        result["licence"] = instrument.licence
    norms = instrument.norms
    if norms is not None:
        norms_dict: dict[str, Any] = {
            "clinical": {
                "mean": _plain_number(norms.clinical.mean),
                "sd": _plain_number(norms.clinical.sd),
            },
            "reliability": norms.reliability,
            "direction": norms.direction.value,
            "criterion": norms.criterion,
        }
        if norms.nonclinical is not None:
            norms_dict["nonclinical"] = {
                "mean": _plain_number(norms.nonclinical.mean),
                "sd": _plain_number(norms.nonclinical.sd),
            }
        if norms.cutoff is not None:
            norms_dict["cutoff"] = _plain_number(norms.cutoff)
        if norms.source:
            norms_dict["source"] = norms.source
        result["norms"] = norms_dict
    return result


def canonical_json(instrument: Instrument) -> bytes:
    """What the content hash is taken of: the canonical definition without its version."""
    content = definition_dict(instrument)
    del content["version"]
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def content_hash(instrument: Instrument) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(instrument)).hexdigest()


def check_version(candidate: Instrument, *, known: Iterable[Instrument]) -> None:
    """Refuse a definition that reuses a known slug and version for different content. The same
    content again (any layout) is fine; so is a new version label, changed or not."""
    for existing in known:
        if existing.key == candidate.key and existing.content_hash != candidate.content_hash:
            raise DefinitionError(
                [
                    (
                        "version",
                        f"version {candidate.version} of {candidate.slug} is already loaded with "
                        "different content: a changed definition needs a new version",
                    )
                ]
            )
