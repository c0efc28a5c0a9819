"""Every rule a bad row could break is refused twice: by model validation, with a message on the
field a person would correct, and by the database itself when validation is bypassed (bulk
imports, ``QuerySet.update``, raw migrations).

Each expected ``IntegrityError`` is caught inside ``transaction.atomic()`` so that only a savepoint
is rolled back and the test's own transaction stays usable, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from rapport.accounts.models import Consent, User
from rapport.core.models import Jurisdiction
from rapport.directory.models import (
    STYLE_DIMENSIONS,
    Designation,
    Licence,
    Office,
    Regulator,
    ShortlistEntry,
    TherapistProfile,
    VerificationDecision,
)
from tests.factories import load_reference_data, make_office, make_therapist, make_user

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.now().year
STYLE_FIELDS = [field for field, _, _ in STYLE_DIMENSIONS]


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    """A good, verified Toronto therapist (fee CA$150) with one CRPO licence."""
    return make_therapist()


def _validation_errors(instance: models.Model) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        instance.full_clean()
    return raised.value.message_dict


def _database_refusal(write: Callable[[], Any]) -> str:
    """Run a write that skips validation; return the database's complaint."""
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        write()
    return str(raised.value)


# --- good rows -----------------------------------------------------------------------------


def test_factory_therapist_licence_and_office_pass_validation():
    load_reference_data()
    therapist = make_therapist()
    therapist.full_clean()
    therapist.licences.get().full_clean()
    make_office(therapist).full_clean()


# --- therapist profile: model validation --------------------------------------------------


def _style_cases() -> list[Any]:
    return [
        pytest.param(
            {field: value},
            field,
            message,
            id=f"{field}-{value}",
        )
        for field in STYLE_FIELDS
        for value, message in (
            (0, "Ensure this value is greater than or equal to 1."),
            (6, "Ensure this value is less than or equal to 5."),
        )
    ]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        pytest.param(
            {"fee_minor": -1},
            "fee_minor",
            "Ensure this value is greater than or equal to 0.",
            id="negative-fee",
        ),
        pytest.param(
            {"sliding_scale_min_minor": 15001},
            "sliding_scale_min_minor",
            "The lowest sliding-scale fee cannot be above the full fee.",
            id="sliding-scale-floor-above-fee",
        ),
        *_style_cases(),
        pytest.param(
            {"offers_in_person": False, "offers_video": False, "offers_phone": False},
            "offers_video",
            "Offer at least one way to meet: in person, video or phone.",
            id="no-delivery-mode",
        ),
        pytest.param(
            {"time_zone": "Mars/Olympus_Mons"},
            "time_zone",
            "Mars/Olympus_Mons is not an IANA time zone name (for example America/Toronto).",
            id="unknown-time-zone",
        ),
        pytest.param(
            {"time_zone": "Toronto"},
            "time_zone",
            "Toronto is not an IANA time zone name (for example America/Toronto).",
            id="city-as-time-zone",
        ),
        pytest.param(
            {"practice_start_year": THIS_YEAR + 1},
            "practice_start_year",
            f"Enter a year between 1950 and {THIS_YEAR}.",
            id="practice-start-year-in-the-future",
        ),
        pytest.param(
            {"practice_start_year": 1949},
            "practice_start_year",
            f"Enter a year between 1950 and {THIS_YEAR}.",
            id="practice-start-year-too-early",
        ),
        pytest.param(
            {"verification_decided_at": None},
            "verification_decided_at",
            "A verified listing needs the time of the decision.",
            id="verified-without-decision-time",
        ),
        pytest.param(
            {"currency": "EUR"}, "currency", "Value 'EUR' is not a valid choice.", id="currency"
        ),
        pytest.param(
            {"verification_status": "approved"},
            "verification_status",
            "Value 'approved' is not a valid choice.",
            id="verification-status",
        ),
        pytest.param(
            {"gender_category": "other"},
            "gender_category",
            "Value 'other' is not a valid choice.",
            id="gender-category",
        ),
        pytest.param(
            {"between_session_contact": "any_time"},
            "between_session_contact",
            "Value 'any_time' is not a valid choice.",
            id="contact-policy",
        ),
        pytest.param(
            {"session_minutes": 14},
            "session_minutes",
            "Ensure this value is greater than or equal to 15.",
            id="session-too-short",
        ),
        pytest.param(
            {"session_minutes": 241},
            "session_minutes",
            "Ensure this value is less than or equal to 240.",
            id="session-too-long",
        ),
        pytest.param(
            {"consultation_minutes": 61},
            "consultation_minutes",
            "Ensure this value is less than or equal to 60.",
            id="consultation-too-long",
        ),
        pytest.param(
            {"reply_within_hours": 0},
            "reply_within_hours",
            "Ensure this value is greater than or equal to 1.",
            id="reply-window-zero",
        ),
        pytest.param(
            {"reply_within_hours": 337},
            "reply_within_hours",
            "Ensure this value is less than or equal to 336.",
            id="reply-window-over-two-weeks",
        ),
    ],
)
def test_profile_validation_rejects_bad_value_on_its_field(therapist, changes, field, message):
    for name, value in changes.items():
        setattr(therapist, name, value)
    assert _validation_errors(therapist) == {field: [message]}


# --- therapist profile: the database's own refusal ----------------------------------------

# (changes, constraint name). Values are chosen to break only the named constraint where the
# column allows it; a negative fee also breaks the positive-integer column check Django adds.
PROFILE_DATABASE_CASES = [
    pytest.param({"fee_minor": -1}, "profile_fee_not_negative", id="negative-fee"),
    pytest.param(
        {"sliding_scale_min_minor": 15001},
        "profile_sliding_scale_within_fee",
        id="sliding-scale-floor-above-fee",
    ),
    pytest.param({"currency": "EUR"}, "profile_currency_valid", id="currency"),
    pytest.param(
        {"verification_status": "approved"},
        "profile_verification_status_valid",
        id="verification-status",
    ),
    pytest.param(
        {"verification_decided_at": None},
        "profile_verified_has_decision_time",
        id="verified-without-decision-time",
    ),
    pytest.param({"gender_category": "other"}, "profile_gender_category_valid", id="gender"),
    pytest.param(
        {"between_session_contact": "any_time"}, "profile_contact_policy_valid", id="contact"
    ),
    pytest.param(
        {"offers_in_person": False, "offers_video": False, "offers_phone": False},
        "profile_offers_some_delivery",
        id="no-delivery-mode",
    ),
    pytest.param({"session_minutes": 14}, "profile_session_length_range", id="session-14"),
    pytest.param({"session_minutes": 241}, "profile_session_length_range", id="session-241"),
    pytest.param(
        {"consultation_minutes": 61}, "profile_consultation_length_range", id="consultation-61"
    ),
    pytest.param({"reply_within_hours": 0}, "profile_reply_window_range", id="reply-0"),
    pytest.param({"reply_within_hours": 337}, "profile_reply_window_range", id="reply-337"),
    pytest.param(
        {"practice_start_year": 1949}, "profile_practice_start_year_range", id="year-1949"
    ),
    pytest.param(
        {"practice_start_year": 2101}, "profile_practice_start_year_range", id="year-2101"
    ),
    pytest.param({"time_zone": "Toronto"}, "profile_time_zone_shaped", id="time-zone"),
    *[
        pytest.param({field: value}, f"profile_{field}_range", id=f"{field}-{value}")
        for field in STYLE_FIELDS
        for value in (0, 6)
    ],
]


def _names_constraint(message: str, constraint: str, column: str) -> bool:
    """Whether a database error names the constraint (or, for a positive-integer column, the
    column check Django adds alongside it, which PostgreSQL may test first)."""
    if constraint in message:
        return True
    return constraint == "profile_fee_not_negative" and (
        f"directory_therapistprofile_{column}_check" in message  # PostgreSQL
        or message == f"CHECK constraint failed: {column}"  # SQLite
    )


@pytest.mark.parametrize(("changes", "constraint"), PROFILE_DATABASE_CASES)
def test_database_refuses_bad_profile_row_written_past_validation(therapist, changes, constraint):
    profiles = TherapistProfile.objects.filter(pk=therapist.pk)
    refusal = _database_refusal(lambda: profiles.update(**changes))
    assert _names_constraint(refusal, constraint, next(iter(changes))), refusal
    therapist.refresh_from_db()
    assert therapist.fee_minor == 15000  # the row is unchanged and the connection still works


# --- licence -------------------------------------------------------------------------------


def test_licence_validation_rejects_a_regulator_from_another_jurisdiction(therapist):
    licence = therapist.licences.get()
    licence.regulator = Regulator.objects.get(jurisdiction_id="CA-BC", abbreviation="BCACC")
    assert _validation_errors(licence) == {
        "regulator": ["This regulator does not license in the chosen jurisdiction."]
    }


def test_licence_validation_rejects_a_title_the_regulator_does_not_grant(therapist):
    licence = therapist.licences.get()  # an RP registered with the CRPO
    licence.designation = Designation.objects.get(code="RSW")
    assert _validation_errors(licence) == {
        "designation": ["This regulator does not grant the chosen designation."]
    }


def test_licence_validation_rejects_a_made_up_jurisdiction(therapist):
    licence = therapist.licences.get()
    licence.jurisdiction_id = "CA-XX"
    assert _validation_errors(licence) == {
        "jurisdiction": ["jurisdiction instance with code 'CA-XX' is not a valid choice."],
        # Its CRPO regulator does not license in CA-XX either, and says so.
        "regulator": ["This regulator does not license in the chosen jurisdiction."],
    }


def test_licence_validation_rejects_an_empty_number(therapist):
    licence = therapist.licences.get()
    licence.number = ""
    assert _validation_errors(licence) == {"number": ["This field cannot be blank."]}


def test_licence_validation_rejects_a_second_licence_for_the_same_title_and_place(therapist):
    first = therapist.licences.get()
    second = Licence(
        therapist=therapist,
        jurisdiction_id=first.jurisdiction_id,
        designation=first.designation,
        regulator=first.regulator,
        number="99999",
    )
    assert _validation_errors(second) == {
        "__all__": ["Licence with this Therapist, Jurisdiction and Designation already exists."]
    }


def test_database_refuses_an_empty_licence_number(therapist):
    licences = Licence.objects.filter(therapist=therapist)
    refusal = _database_refusal(lambda: licences.update(number=""))
    assert "licence_number_present" in refusal


def test_database_refuses_a_second_licence_for_the_same_title_and_place(therapist):
    first = therapist.licences.get()
    duplicate = Licence(
        therapist=therapist,
        jurisdiction_id=first.jurisdiction_id,
        designation=first.designation,
        regulator=first.regulator,
        number="99999",
    )
    refusal = _database_refusal(lambda: Licence.objects.bulk_create([duplicate]))
    # SQLite names the columns of a unique index, PostgreSQL the constraint.
    sqlite_columns = (
        "directory_licence.therapist_id, directory_licence.jurisdiction_id, "
        "directory_licence.designation_id"
    )
    assert "licence_one_per_title_and_jurisdiction" in refusal or sqlite_columns in refusal
    assert therapist.licences.count() == 1


# --- office --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("latitude", 90.5, "Ensure this value is less than or equal to 90."),
        ("latitude", -90.5, "Ensure this value is greater than or equal to -90."),
        ("longitude", 180.5, "Ensure this value is less than or equal to 180."),
        ("longitude", -180.5, "Ensure this value is greater than or equal to -180."),
        (
            "time_zone",
            "Eastern",
            "Eastern is not an IANA time zone name (for example America/Toronto).",
        ),
        (
            "jurisdiction_id",
            "CA-XX",
            "jurisdiction instance with code 'CA-XX' is not a valid choice.",
        ),
    ],
)
def test_office_validation_rejects_bad_value_on_its_field(therapist, field, value, message):
    office = make_office(therapist)
    setattr(office, field, value)
    assert _validation_errors(office) == {field.removesuffix("_id"): [message]}


@pytest.mark.parametrize(
    ("field", "value", "constraint"),
    [
        ("latitude", 90.5, "office_latitude_range"),
        ("latitude", -90.5, "office_latitude_range"),
        ("longitude", 180.5, "office_longitude_range"),
        ("longitude", -180.5, "office_longitude_range"),
        ("time_zone", "Toronto", "office_time_zone_shaped"),
    ],
)
def test_database_refuses_an_office_off_the_globe(therapist, field, value, constraint):
    offices = Office.objects.filter(pk=make_office(therapist).pk)
    refusal = _database_refusal(lambda: offices.update(**{field: value}))
    assert constraint in refusal


# --- made-up jurisdictions: foreign keys ---------------------------------------------------
# Django creates foreign keys DEFERRABLE INITIALLY DEFERRED (on SQLite and PostgreSQL), so a bad
# reference is only refused when the transaction commits. Inside a test's transaction,
# check_constraints() runs that same commit-time check on demand: PostgreSQL's SET CONSTRAINTS
# ALL IMMEDIATE, SQLite's PRAGMA foreign_key_check.


def _write_then_check_foreign_keys(write: Callable[[], Any]) -> str:
    def write_and_check() -> None:
        write()
        connection.check_constraints()

    return _database_refusal(write_and_check)


@pytest.mark.parametrize("model", [Licence, Office, Regulator])
def test_database_refuses_a_made_up_jurisdiction(therapist, model):
    if model is Office:
        make_office(therapist)
    rows = model.objects.all() if model is not Licence else therapist.licences.all()
    row = rows.first()
    assert row is not None
    refusal = _write_then_check_foreign_keys(
        lambda: model.objects.filter(pk=row.pk).update(jurisdiction_id="CA-XX")
    )
    assert model._meta.db_table in refusal
    assert "CA-XX" in refusal
    row.refresh_from_db()
    assert row.jurisdiction_id != "CA-XX"


# --- regulator -----------------------------------------------------------------------------


def test_regulator_validation_rejects_a_second_regulator_with_the_same_abbreviation(therapist):
    duplicate = Regulator(jurisdiction_id="CA-ON", abbreviation="CRPO", name="Another college")
    assert _validation_errors(duplicate) == {
        "__all__": ["Regulator with this Jurisdiction and Abbreviation already exists."]
    }


def test_regulator_validation_allows_the_same_abbreviation_elsewhere(therapist):
    Regulator(jurisdiction_id="CA-AB", abbreviation="CRPO", name="A college").full_clean()


def test_regulator_validation_rejects_a_made_up_jurisdiction(therapist):
    regulator = Regulator(jurisdiction_id="CA-XX", abbreviation="NEW", name="A college")
    assert _validation_errors(regulator) == {
        "jurisdiction": ["jurisdiction instance with code 'CA-XX' is not a valid choice."]
    }


def test_database_refuses_a_second_regulator_with_the_same_abbreviation(therapist):
    duplicate = Regulator(jurisdiction_id="CA-ON", abbreviation="CRPO", name="Another college")
    refusal = _database_refusal(lambda: Regulator.objects.bulk_create([duplicate]))
    assert (
        "directory_regulator_unique" in refusal
        or "directory_regulator.jurisdiction_id, directory_regulator.abbreviation" in refusal
    ), refusal


# --- jurisdiction --------------------------------------------------------------------------


def test_jurisdiction_validation_rejects_a_country_rapport_does_not_serve():
    england = Jurisdiction(code="GB-ENG", name="England", country_code="GB")
    assert _validation_errors(england) == {
        "__all__": ["Constraint “core_jurisdiction_served_country” is violated."]
    }


def test_database_refuses_a_jurisdiction_in_a_country_rapport_does_not_serve():
    england = Jurisdiction(code="GB-ENG", name="England", country_code="GB")
    refusal = _database_refusal(lambda: Jurisdiction.objects.bulk_create([england]))
    assert "core_jurisdiction_served_country" in refusal
    assert not Jurisdiction.objects.filter(code="GB-ENG").exists()


# --- accounts ------------------------------------------------------------------------------


@pytest.fixture
def ada() -> User:
    return User.objects.create_user("ada@example.com", "a long enough password")


@pytest.mark.parametrize("email", ["ada@example.com", "Ada@Example.com", "ADA@EXAMPLE.COM"])
def test_user_validation_rejects_an_email_taken_in_any_letter_case(ada, email):
    other = User(email=email, password="unused")
    assert _validation_errors(other) == {"email": ["User with this E-mail address already exists."]}


def test_user_validation_accepts_the_users_own_email(ada):
    ada.email = "ADA@example.com"
    ada.full_clean()


def test_user_validation_rejects_an_unknown_role(ada):
    ada.role = "admin"
    assert _validation_errors(ada) == {"role": ["Value 'admin' is not a valid choice."]}


def test_database_refuses_an_email_taken_in_another_letter_case(ada):
    other = User(email="Ada@Example.com", password="unused")
    refusal = _database_refusal(lambda: User.objects.bulk_create([other]))
    # SQLite names an expression index by its position; PostgreSQL names the constraint.
    assert "accounts_user_email_unique_ci" in refusal or "index 'accounts_user_email" in refusal
    assert User.objects.count() == 1


def test_database_refuses_an_unknown_role(ada):
    users = User.objects.filter(pk=ada.pk)
    assert "accounts_user_role_valid" in _database_refusal(lambda: users.update(role="admin"))


def test_database_refuses_a_deletion_date_without_a_request(ada):
    users = User.objects.filter(pk=ada.pk)
    refusal = _database_refusal(lambda: users.update(deletion_due_at=timezone.now()))
    assert "accounts_user_deletion_due_only_when_requested" in refusal


# --- consents and licence decisions --------------------------------------------------------


def test_database_refuses_an_unknown_consent_kind_and_a_withdrawal_before_consent(ada):
    consent = Consent.objects.create(
        user=ada, kind="terms", version="2026-11", given_at=timezone.now()
    )
    consents = Consent.objects.filter(pk=consent.pk)
    assert "accounts_consent_kind_valid" in _database_refusal(
        lambda: consents.update(kind="marketing")
    )
    earlier = consent.given_at - dt.timedelta(seconds=1)
    assert "accounts_consent_withdrawn_after_given" in _database_refusal(
        lambda: consents.update(withdrawn_at=earlier)
    )


def test_database_refuses_two_live_consents_to_the_same_version(ada):
    Consent.objects.create(user=ada, kind="terms", version="2026-11", given_at=timezone.now())
    second = Consent(user=ada, kind="terms", version="2026-11", given_at=timezone.now())
    refusal = _database_refusal(lambda: Consent.objects.bulk_create([second]))
    assert "accounts_consent_one_live_per_version" in refusal or "UNIQUE" in refusal


def test_database_refuses_an_unknown_decision_and_a_refusal_without_reason(therapist):
    decision = VerificationDecision.objects.create(
        therapist=therapist,
        previous_status="pending",
        status="verified",
        decided_at=timezone.now(),
    )
    decisions = VerificationDecision.objects.filter(pk=decision.pk)
    assert "verification_decision_status_valid" in _database_refusal(
        lambda: decisions.update(status="approved", reason="A reason long enough.")
    )
    assert "verification_decision_reason_for_refusals" in _database_refusal(
        lambda: decisions.update(status="rejected", reason="")
    )


def test_database_refuses_saving_the_same_therapist_twice_to_one_account(therapist):
    user = make_user()
    ShortlistEntry.objects.create(user=user, therapist=therapist)
    duplicate = ShortlistEntry(user=user, therapist=therapist)
    refusal = _database_refusal(lambda: ShortlistEntry.objects.bulk_create([duplicate]))
    assert (
        "shortlist_entry_unique" in refusal
        or "directory_shortlistentry.user_id, directory_shortlistentry.therapist_id" in refusal
    ), refusal
    # Another account may save the same therapist.
    ShortlistEntry.objects.create(user=make_user(), therapist=therapist)


# --- coverage: no constraint is left untested ----------------------------------------------

TESTED_CONSTRAINTS = {
    *(case.values[1] for case in PROFILE_DATABASE_CASES),
    "licence_number_present",
    "licence_one_per_title_and_jurisdiction",
    "office_latitude_range",
    "office_longitude_range",
    "office_time_zone_shaped",
    "directory_regulator_unique",
    "core_jurisdiction_served_country",
    "accounts_user_email_unique_ci",
    "accounts_user_role_valid",
    "accounts_user_deletion_due_only_when_requested",
    "accounts_consent_kind_valid",
    "accounts_consent_withdrawn_after_given",
    "accounts_consent_one_live_per_version",
    "verification_decision_status_valid",
    "verification_decision_reason_for_refusals",
    "shortlist_entry_unique",
}


def test_every_declared_constraint_has_a_database_test():
    declared = {
        constraint.name
        for app_label in ("core", "accounts", "directory")
        for model in apps.get_app_config(app_label).get_models()
        for constraint in model._meta.constraints
    }
    assert declared == TESTED_CONSTRAINTS


def test_every_declared_constraint_exists_in_the_database_by_name():
    missing = []
    with connection.cursor() as cursor:
        for app_label in ("core", "accounts", "directory"):
            for model in apps.get_app_config(app_label).get_models():
                table = model._meta.db_table
                in_database = connection.introspection.get_constraints(cursor, table)
                missing += [
                    f"{table}.{constraint.name}"
                    for constraint in model._meta.constraints
                    if constraint.name not in in_database
                ]
    assert missing == []


def test_migrations_match_the_models():
    # A constraint edited in a model but not in a migration would never reach the database.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
