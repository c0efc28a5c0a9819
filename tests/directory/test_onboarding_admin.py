"""The admin holds profiles to the same rules as the onboarding pages and the import
(rapport.directory.rules): its forms, built as the admin builds them."""

from __future__ import annotations

from typing import Any

import pytest
from django.forms import modelform_factory

from rapport.directory.admin import LicenceAdminForm, OfficeAdminForm, TherapistProfileAdminForm
from rapport.directory.models import Designation, Licence, Office, Regulator, TherapistProfile
from tests.factories import make_therapist

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


def licence_form(number: str) -> Any:
    form_class = modelform_factory(
        Licence,
        form=LicenceAdminForm,
        fields=["jurisdiction", "designation", "regulator", "number"],
    )
    return form_class(
        {
            "jurisdiction": "CA-ON",
            "designation": Designation.objects.get(code="RP").pk,
            "regulator": Regulator.objects.get(jurisdiction_id="CA-ON", abbreviation="CRPO").pk,
            "number": number,
        },
        instance=make_therapist().licences.get(),
    )


def test_a_licence_number_is_normalised_or_refused_as_in_the_wizard():
    good = licence_form("# 12 345")
    assert good.is_valid(), good.errors
    assert good.save().number == "12345"
    bad = licence_form("Jane Doe")
    assert not bad.is_valid()
    assert "CRPO" in bad.errors["number"][0]


def office_form(**overrides: str) -> Any:
    form_class = modelform_factory(
        Office,
        form=OfficeAdminForm,
        fields=[
            "street_address",
            "city",
            "jurisdiction",
            "postal_code",
            "latitude",
            "longitude",
            "time_zone",
        ],
    )
    data = {
        "street_address": "100 Queen St W",
        "city": "Toronto",
        "jurisdiction": "CA-ON",
        "postal_code": "m5h2n2",
        "latitude": "",
        "longitude": "",
        "time_zone": "",
    }
    data.update(overrides)
    return form_class(data, instance=Office(therapist=make_therapist()))


def test_an_office_is_located_from_its_address_when_no_coordinates_are_typed():
    form = office_form()
    assert form.is_valid(), form.errors
    office = form.save()
    assert office.latitude == pytest.approx(43.7, abs=0.2)
    assert (office.time_zone, office.postal_code) == ("America/Toronto", "M5H 2N2")


def test_an_office_whose_postal_code_is_from_elsewhere_is_refused():
    form = office_form(
        postal_code="V6B 1A1", latitude="43.6", longitude="-79.4", time_zone="America/Toronto"
    )
    assert not form.is_valid()
    assert "postal_code" in form.errors


def test_a_small_town_keeps_hand_typed_coordinates():
    form = office_form(
        city="Tiny Hamlet",
        postal_code="K0K 1A0",
        latitude="44.1",
        longitude="-77.6",
        time_zone="America/Toronto",
    )
    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    ("fee", "floor", "field"),
    [
        ("0", "", "fee_minor"),
        ("100001", "", "fee_minor"),
        ("12000", "13000", "sliding_scale_min_minor"),
    ],
)
def test_profile_fees_follow_the_shared_rules(fee, floor, field):
    form_class = modelform_factory(
        TherapistProfile,
        form=TherapistProfileAdminForm,
        fields=["fee_minor", "sliding_scale_min_minor"],
    )
    form = form_class(
        {"fee_minor": fee, "sliding_scale_min_minor": floor}, instance=make_therapist()
    )
    assert not form.is_valid()
    assert field in form.errors
