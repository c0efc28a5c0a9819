"""The instrument engine: questionnaires as data, checked against a published JSON Schema and
scored by pure functions (totals, subscales, bands, critical items, Jacobson–Truax change),
with FHIR R4 QuestionnaireResponse output. docs/instruments.md describes the format.

Imports only the standard library and jsonschema: no models, no database, nothing stored.
"""

from rapport.care.instruments.canonical import (
    canonical_json,
    check_version,
    content_hash,
    definition_dict,
)
from rapport.care.instruments.change import (
    Change,
    ChangeCategory,
    Cutoff,
    Outcome,
    Significance,
    clinical_cutoff,
    clinically_significant,
    cutoff_from_norms,
    reliable_change,
)
from rapport.care.instruments.definition import load_definition, parse_definition
from rapport.care.instruments.errors import AnswerError, ChangeUnavailable, DefinitionError
from rapport.care.instruments.fhir import questionnaire_canonical, questionnaire_response
from rapport.care.instruments.library import (
    builtin_instruments,
    builtin_slugs,
    load_builtin,
    load_definition_file,
    load_definition_folder,
)
from rapport.care.instruments.model import (
    Band,
    CriticalItem,
    Direction,
    Instrument,
    Item,
    Norms,
    ResponseOption,
    Sample,
    Scale,
)
from rapport.care.instruments.schema import definition_schema
from rapport.care.instruments.scoring import (
    CriticalFlag,
    CriticalStatus,
    ScaleScore,
    Scores,
    score,
    validate_answers,
)

__all__ = [
    "AnswerError",
    "Band",
    "Change",
    "ChangeCategory",
    "ChangeUnavailable",
    "CriticalFlag",
    "CriticalItem",
    "CriticalStatus",
    "Cutoff",
    "DefinitionError",
    "Direction",
    "Instrument",
    "Item",
    "Norms",
    "Outcome",
    "ResponseOption",
    "Sample",
    "Scale",
    "ScaleScore",
    "Scores",
    "Significance",
    "builtin_instruments",
    "builtin_slugs",
    "canonical_json",
    "check_version",
    "clinical_cutoff",
    "clinically_significant",
    "content_hash",
    "cutoff_from_norms",
    "definition_dict",
    "definition_schema",
    "load_builtin",
    "load_definition",
    "load_definition_file",
    "load_definition_folder",
    "parse_definition",
    "questionnaire_canonical",
    "questionnaire_response",
    "reliable_change",
    "score",
    "validate_answers",
]
