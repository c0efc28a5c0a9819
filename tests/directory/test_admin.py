import pytest
from django.contrib import admin
from django.core import checks
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from rapport.accounts.models import User
from rapport.core.models import Jurisdiction
from rapport.directory.models import Concern
from tests.factories import make_office, make_therapist

CHANGELIST = reverse("admin:directory_therapistprofile_changelist")


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """Every test here needs the taxonomies and credentials."""


def changelist_names(response):
    return [therapist.display_name for therapist in response.context["cl"].result_list]


def test_admin_configuration_passes_django_checks():
    errors = checks.run_checks(tags=[checks.Tags.admin])

    assert errors == []


def test_therapist_changelist_loads_with_rows(admin_client):
    make_therapist(display_name="Amira Haddad", fee_minor=15000)
    make_therapist(display_name="Ben Okafor", is_listed=False)

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert changelist_names(response) == ["Amira Haddad", "Ben Okafor"]
    assertContains(response, '<td class="field-fee">CA$150</td>', html=True)


def test_therapist_changelist_searches_names_licence_numbers_and_emails(admin_client):
    by_name = make_therapist(display_name="Amira Haddad")
    by_licence = make_therapist(display_name="Ben Okafor")
    by_licence.licences.update(number="CRPO-77777")
    by_email = make_therapist(
        display_name="Cy Tremblay",
        user=User.objects.create_user("cy@example.com"),
    )
    make_therapist(display_name="Nobody Matching")

    def search(term):
        return changelist_names(admin_client.get(CHANGELIST, {"q": term}))

    assert search("haddad") == [by_name.display_name]
    assert search("77777") == [by_licence.display_name]
    assert search("cy@example.com") == [by_email.display_name]


def test_therapist_changelist_filters_by_listing_state(admin_client):
    make_therapist(display_name="Listed")
    make_therapist(display_name="Hidden", is_listed=False)

    response = admin_client.get(CHANGELIST, {"is_listed__exact": "0"})

    assert changelist_names(response) == ["Hidden"]


def test_therapist_change_form_loads_with_inlines(admin_client):
    therapist = make_therapist(display_name="Amira Haddad")
    make_office(therapist, label="Annex office")

    response = admin_client.get(
        reverse("admin:directory_therapistprofile_change", args=[therapist.pk])
    )

    assert response.status_code == 200
    assertContains(response, str(therapist.public_id))
    assertContains(response, 'value="Annex office"')
    assertContains(response, f'value="{therapist.licences.get().number}"')


def test_therapist_add_form_loads(admin_client):
    response = admin_client.get(reverse("admin:directory_therapistprofile_add"))

    assert response.status_code == 200


def test_taxonomy_changelist_edits_order_and_activity_in_place(admin_client):
    response = admin_client.get(reverse("admin:directory_concern_changelist"))

    assert response.status_code == 200
    assertContains(response, 'name="form-0-sort_order"')
    assertContains(response, 'name="form-0-is_active"')
    assert response.context["cl"].result_count == Concern.objects.count()


def test_jurisdictions_are_read_only_in_the_admin(admin_client):
    changelist = admin_client.get(reverse("admin:core_jurisdiction_changelist"))
    add = admin_client.get(reverse("admin:core_jurisdiction_add"))
    change = admin_client.get(reverse("admin:core_jurisdiction_change", args=["CA-ON"]))

    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == Jurisdiction.objects.count()
    assert add.status_code == 403
    assertNotContains(change, 'name="_save"')


def test_every_directory_model_is_registered():
    registered = {model._meta.label for model in admin.site._registry}

    assert {
        "directory.TherapistProfile",
        "directory.Concern",
        "directory.Modality",
        "directory.Population",
        "directory.Language",
        "directory.Faith",
        "directory.LivedExperience",
        "directory.AccessibilityFeature",
        "directory.Designation",
        "directory.Regulator",
        "core.Jurisdiction",
    } <= registered
