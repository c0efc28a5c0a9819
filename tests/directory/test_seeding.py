"""`rapport seed`: deterministic, idempotent, valid and believable."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from rapport.directory.models import Licence, Office, TherapistProfile
from rapport.directory.seeding.demo import demo_directory_clear, demo_directory_seed
from tests.factories import make_therapist

pytestmark = pytest.mark.django_db


def _snapshot() -> list[tuple[object, ...]]:
    return list(
        TherapistProfile.objects.order_by("seed_key").values_list(
            "seed_key", "public_id", "display_name", "fee_minor", "currency", "designation__code"
        )
    )


def _row_counts() -> dict[str, int]:
    return {
        "profiles": TherapistProfile.objects.count(),
        "licences": Licence.objects.count(),
        "offices": Office.objects.count(),
        "concern_links": TherapistProfile.concerns.through.objects.count(),
        "language_links": TherapistProfile.languages.through.objects.count(),
        "office_features": Office.accessibility_features.through.objects.count(),
    }


def test_seed_twice_adds_nothing_the_second_time():
    first = demo_directory_seed(therapists=40, seed=3)
    counts = _row_counts()
    second = demo_directory_seed(therapists=40, seed=3)

    assert (first.created, first.already_present) == (40, 0)
    assert (second.created, second.already_present) == (0, 40)
    assert _row_counts() == counts
    assert counts["profiles"] == 40


def test_seed_is_the_same_for_the_same_seed_and_differs_for_another():
    demo_directory_seed(therapists=25, seed=11)
    first = _snapshot()
    demo_directory_clear(seed=11)
    assert TherapistProfile.objects.count() == 0
    demo_directory_seed(therapists=25, seed=11)
    assert _snapshot() == first

    demo_directory_seed(therapists=25, seed=12)
    other = [row for row in _snapshot() if str(row[0]).startswith("seed12-")]
    assert len(other) == 25
    assert {row[2] for row in other} != {row[2] for row in first}


def test_seed_with_a_larger_count_adds_only_the_difference():
    demo_directory_seed(therapists=10, seed=4)
    before = _snapshot()
    result = demo_directory_seed(therapists=30, seed=4)

    assert (result.created, result.already_present) == (20, 10)
    assert _snapshot()[:10] == before


def test_seeded_therapists_pass_model_validation_with_consistent_credentials():
    demo_directory_seed(therapists=150, seed=21)
    therapists = TherapistProfile.objects.prefetch_related(
        "licences__regulator__designations", "offices", "languages", "concerns"
    )
    for therapist in therapists:
        therapist.full_clean()
        licences = list(therapist.licences.all())
        assert licences, therapist.display_name
        home = licences[0]
        # Fees are in the currency of the country where the therapist is licensed first.
        assert therapist.currency == ("CAD" if home.jurisdiction_id.startswith("CA") else "USD")
        for licence in licences:
            licence.full_clean()
            assert licence.regulator.jurisdiction_id == licence.jurisdiction_id
            granted = {designation.id for designation in licence.regulator.designations.all()}
            assert licence.designation_id in granted
        offices = list(therapist.offices.all())
        assert bool(offices) == therapist.offers_in_person
        for office in offices:
            office.full_clean()
        assert therapist.concerns.count() >= 3
        assert therapist.languages.count() >= 1


def test_seeded_directory_has_a_believable_spread():
    demo_directory_seed(therapists=400, seed=1)
    therapists = TherapistProfile.objects.all()

    assert set(therapists.values_list("currency", flat=True)) == {"CAD", "USD"}
    jurisdictions = set(Licence.objects.values_list("jurisdiction_id", flat=True))
    assert len(jurisdictions) >= 15
    assert {"CA-ON", "CA-QC", "CA-BC", "US-CA", "US-NY"} <= jurisdictions
    in_person = therapists.filter(offers_in_person=True).count()
    assert 0.35 * 400 < in_person < 0.75 * 400  # both office-based and virtual-only practices
    verified = therapists.filter(verification_status="verified").count()
    assert 0.8 * 400 < verified < 400  # mostly verified, but some pending or suspended
    assert therapists.filter(sliding_scale_min_minor__isnull=False).exists()
    assert therapists.exclude(accepting_new_clients=True).exists()
    # Quebec practices work in French.
    quebec = therapists.filter(licences__jurisdiction_id="CA-QC").distinct()
    assert quebec.exists()
    assert all(t.languages.filter(slug="fr").exists() for t in quebec)
    names = list(therapists.values_list("display_name", flat=True))
    assert len(set(names)) > 0.95 * len(names)


def test_clear_removes_only_generated_therapists(reference_data):
    hand_made = make_therapist(display_name="Hand Made")
    demo_directory_seed(therapists=5, seed=2)

    assert demo_directory_clear(seed=2) == 5
    assert list(TherapistProfile.objects.values_list("id", flat=True)) == [hand_made.id]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "argument --therapists: must not be negative, got -1"),
        ("ten", "argument --therapists: must be a whole number, got 'ten'"),
        ("2.5", "argument --therapists: must be a whole number, got '2.5'"),
    ],
)
def test_seed_command_rejects_a_bad_count_and_writes_nothing(value, message):
    with pytest.raises(CommandError) as error:
        call_command("seed", f"--therapists={value}")
    assert message in str(error.value)
    assert TherapistProfile.objects.count() == 0


def test_seed_command_reports_what_it_did():
    output = io.StringIO()
    call_command("seed", "--therapists=3", "--seed=9", stdout=output)
    call_command("seed", "--therapists=3", "--seed=9", stdout=output)
    lines = output.getvalue().splitlines()
    assert lines[0].startswith("Seeded 3 therapists (0 were already there)")
    assert lines[1].startswith("Seeded 0 therapists (3 were already there)")


def test_seed_command_refuses_production_databases():
    with override_settings(PRODUCTION=True), pytest.raises(CommandError) as error:
        call_command("seed", "--therapists=3")
    assert str(error.value) == "Refusing to add demo therapists to a production database."
    assert TherapistProfile.objects.count() == 0
