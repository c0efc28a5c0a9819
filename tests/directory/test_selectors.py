import datetime as dt
import uuid

import pytest
from django.utils import timezone

from rapport.directory.models import (
    Designation,
    Licence,
    Regulator,
    TherapistProfile,
    VerificationStatus,
)
from rapport.directory.selectors import is_listed, therapist_listing, therapist_profile
from tests.factories import make_therapist


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """Every test here needs the taxonomies and credentials."""


def listed_names(now):
    """The listing's names, after checking that the in-memory rule (used for search result
    cards) agrees with the query on every therapist in the database."""
    names = list(therapist_listing(now=now).values_list("display_name", flat=True))
    by_rule = [t.display_name for t in TherapistProfile.objects.all() if is_listed(t, now=now)]
    assert sorted(by_rule) == sorted(names)
    return names


def test_listing_shows_a_fresh_verified_accepting_therapist():
    make_therapist(display_name="Fresh Verified")

    assert listed_names(timezone.now()) == ["Fresh Verified"]


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(
            {"verification_status": VerificationStatus.PENDING, "verification_decided_at": None},
            id="pending",
        ),
        pytest.param({"verification_status": VerificationStatus.REJECTED}, id="rejected"),
        pytest.param({"verification_status": VerificationStatus.SUSPENDED}, id="suspended"),
        pytest.param({"is_listed": False}, id="unlisted"),
        pytest.param({"accepting_new_clients": False}, id="not-accepting"),
        pytest.param(
            {"accepting_confirmed_at": timezone.now() - dt.timedelta(days=31)}, id="stale-31-days"
        ),
        pytest.param({"accepting_confirmed_at": None}, id="never-confirmed"),
    ],
)
def test_listing_hides_therapists_clients_should_not_see(overrides):
    make_therapist(display_name="Visible")
    make_therapist(display_name="Hidden", **overrides)

    assert listed_names(timezone.now()) == ["Visible"]


def test_listing_keeps_a_confirmation_exactly_at_the_freshness_limit():
    now = timezone.now()
    make_therapist(display_name="Thirty Days", accepting_confirmed_at=now - dt.timedelta(days=30))
    make_therapist(
        display_name="Just Over",
        accepting_confirmed_at=now - dt.timedelta(days=30, seconds=1),
    )

    assert listed_names(now) == ["Thirty Days"]


def test_listing_freshness_window_follows_the_setting(settings):
    settings.LISTING_FRESHNESS_DAYS = 7
    now = timezone.now()
    make_therapist(display_name="Six Days", accepting_confirmed_at=now - dt.timedelta(days=6))
    make_therapist(display_name="Eight Days", accepting_confirmed_at=now - dt.timedelta(days=8))

    assert listed_names(now) == ["Six Days"]


def test_listing_judges_freshness_against_the_given_now():
    confirmed = timezone.now() - dt.timedelta(days=2)
    make_therapist(display_name="Confirmed", accepting_confirmed_at=confirmed)

    assert listed_names(confirmed + dt.timedelta(days=29)) == ["Confirmed"]
    assert listed_names(confirmed + dt.timedelta(days=31)) == []


def test_listing_is_in_id_order_and_leaves_name_order_to_the_search_engine():
    # SQL would sort "Émile" after "Zoe"; the one name order clients see is the engine's.
    ids = [make_therapist(display_name=name).id for name in ("Zoe", "Émile", "Abe", "Bea")]

    rows = list(therapist_listing(now=timezone.now()).values_list("id", flat=True))

    assert rows == ids


def test_profile_returns_a_listed_therapist_by_public_id():
    therapist = make_therapist(display_name="Listed")

    found = therapist_profile(public_id=therapist.public_id, now=timezone.now())

    assert found is not None
    assert found.pk == therapist.pk


def test_profile_is_none_for_a_hidden_therapist_and_for_an_unknown_id():
    hidden = make_therapist(is_listed=False)

    assert therapist_profile(public_id=hidden.public_id, now=timezone.now()) is None
    assert therapist_profile(public_id=uuid.uuid4(), now=timezone.now()) is None


def add_licence(therapist, *, jurisdiction, regulator, designation, number, expires_on=None):
    return Licence.objects.create(
        therapist=therapist,
        jurisdiction_id=jurisdiction,
        designation=Designation.objects.get(code=designation),
        regulator=Regulator.objects.get(jurisdiction_id=jurisdiction, abbreviation=regulator),
        number=number,
        expires_on=expires_on,
    )


def test_profile_leaves_out_expired_licences():
    now = timezone.now()
    therapist = make_therapist()  # holds an Ontario licence without an expiry date
    add_licence(
        therapist,
        jurisdiction="CA-BC",
        regulator="BCACC",
        designation="RCC",
        number="EXPIRED-1",
        expires_on=(now - dt.timedelta(days=1)).date(),
    )
    add_licence(
        therapist,
        jurisdiction="CA-NS",
        regulator="NSCCT",
        designation="CCT",
        number="LAST-DAY-2",
        expires_on=now.date(),
    )

    found = therapist_profile(public_id=therapist.public_id, now=now)

    assert found is not None
    assert [licence.jurisdiction_id for licence in found.licences.all()] == ["CA-NS", "CA-ON"]


def test_a_licence_is_current_through_its_expiry_day_and_not_after(reference_data):
    import datetime as dt

    from rapport.directory.models import Licence

    therapist = make_therapist()
    licence = therapist.licences.get()
    today = dt.date(2027, 3, 1)

    Licence.objects.filter(pk=licence.pk).update(expires_on=today)
    assert list(Licence.objects.current(on=today)) == [licence]
    assert list(therapist.licences.current(on=today + dt.timedelta(days=1))) == []
    Licence.objects.filter(pk=licence.pk).update(expires_on=None)
    assert list(Licence.objects.current(on=dt.date(2099, 1, 1))) == [licence]
