"""Staff's exposure page: each therapist's share of first pages, the Gini coefficient over every
therapist that could have been shown, and who was never shown."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import random
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.services import account_delete
from rapport.core.housekeeping import housekeeping_steps
from rapport.core.privacy import erasure_steps
from rapport.matching.exposure import exposure_never_shown, exposure_period, exposure_shown, gini
from rapport.matching.models import Exposure, ExposureSeen, FitProfile
from rapport.matching.services import exposure_record
from tests.factories import make_therapist, make_user
from tests.matching.factories import fit_profile

URL = "/staff/matching/exposure/"


# --- the Gini coefficient against hand-computed tables --------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # mean 1; |differences| of the 6 unordered pairs: 0,1,3,1,3,2 = 10, so 20 over ordered
        # pairs; 20 / (2 · 4² · 1) = 0.625
        ([0, 0, 1, 3], 0.625),
        # the same shares as fractions of the 4 first pages: scale does not matter
        ([0.0, 0.0, 0.25, 0.75], 0.625),
        # everyone equal
        ([2, 2, 2, 2], 0.0),
        # one takes all of four: pairs (0,5) ×3 = 15, ×2 = 30; 30 / (2 · 16 · 1.25) = 0.75
        ([0, 0, 0, 5], 0.75),
        # two: |1 − 3| · 2 = 4; 4 / (2 · 4 · 2) = 0.25
        ([3, 1], 0.25),
        # a single therapist has no one to be unequal to
        ([7], 0.0),
    ],
)
def test_gini_matches_hand_tables(values, expected):
    assert gini(values) == pytest.approx(expected, abs=1e-12)


def test_gini_is_undefined_for_nothing_shown():
    assert gini([]) is None
    assert gini([0, 0, 0]) is None


def test_gini_refuses_negative_counts():
    with pytest.raises(ValueError, match="non-negative"):
        gini([1, -1])


def test_gini_agrees_with_the_pairwise_definition():
    rng = random.Random(16)
    for _ in range(50):
        values = [rng.randint(0, 20) for _ in range(rng.randint(1, 12))]
        if not any(values):
            continue
        pairs = sum(abs(a - b) for a, b in itertools.product(values, repeat=2))
        by_definition = pairs / (2 * len(values) ** 2 * (sum(values) / len(values)))
        assert gini(values) == pytest.approx(by_definition, abs=1e-12)


# --- the figures from recorded first pages --------------------------------------------------


@pytest.fixture
def four(reference_data):
    """Four listed therapists; of four people's first pages, D is on three and C on one."""
    a, b, c, d = (make_therapist(display_name=name) for name in ("Ada", "Bo", "Cy", "Di"))
    today = timezone.localdate()
    exposure_record(therapist_ids=[d.pk], day=today, viewer="person 1")
    exposure_record(therapist_ids=[d.pk], day=today, viewer="person 2")
    exposure_record(therapist_ids=[d.pk, c.pk], day=today - dt.timedelta(days=1), viewer="person 3")
    exposure_record(therapist_ids=[], day=today - dt.timedelta(days=2), viewer="person 4")
    return a, b, c, d


def test_the_period_counts_first_pages_and_shares(four):
    a, b, c, d = four
    now = timezone.now()
    today = timezone.localdate(now)

    period = exposure_period(days=7, today=today, now=now)

    assert period.first_pages == 4
    assert period.appearances == 4
    assert period.shown == 2
    assert period.never_shown == 2
    assert period.gini == pytest.approx(0.625)  # the hand table [0, 0, 1, 3]
    shown = list(exposure_shown(days=7, today=today))
    assert [(row["therapist_id"], row["appearances"]) for row in shown] == [(d.pk, 3), (c.pk, 1)]
    assert list(exposure_never_shown(days=7, today=today, now=now)) == [a, b]


def test_older_days_fall_outside_a_shorter_period(four):
    a = four[0]
    now = timezone.now()
    today = timezone.localdate(now)
    exposure_record(therapist_ids=[a.pk], day=today - dt.timedelta(days=10), viewer="person 5")

    week = exposure_period(days=7, today=today, now=now)
    month = exposure_period(days=30, today=today, now=now)

    assert (week.first_pages, week.shown, week.never_shown) == (4, 2, 2)
    assert (month.first_pages, month.shown, month.never_shown) == (5, 3, 1)
    # [0, 1, 1, 3]: pairs 1,1,3,0,2,2 = 9, ×2 = 18; 18 / (2 · 16 · 1.25) = 0.45
    assert month.gini == pytest.approx(0.45)


def test_a_therapist_no_longer_listed_still_counts_if_shown_and_not_otherwise(four):
    _a, b, _c, d = four
    d.is_listed = False
    d.save(update_fields=["is_listed"])
    b.is_listed = False
    b.save(update_fields=["is_listed"])
    now = timezone.now()

    period = exposure_period(days=7, today=timezone.localdate(now), now=now)

    # D was shown (3), C (1); A listed and never shown; B neither listed nor shown: left out.
    assert (period.shown, period.never_shown) == (2, 1)
    assert period.gini == pytest.approx(gini([0, 1, 3]))


def test_an_unknown_period_is_refused():
    with pytest.raises(ValueError, match="Choose a period"):
        exposure_period(days=14, today=dt.date(2026, 1, 1), now=timezone.now())


# --- the page -------------------------------------------------------------------------------


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_url_is_the_named_route():
    assert reverse("matching_staff:exposure") == URL


def test_staff_see_the_figures_shares_and_who_was_never_shown(four):
    staff = make_user(role="staff", mfa=True)

    response = signed_in(staff).get(URL, {"days": "7"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Match exposure</h1>" in page
    assert "<dt>First pages shown</dt>\n    <dd>4</dd>" in page
    assert "0.62" in page or "0.63" in page  # 0.625, rounded for people
    # Most appearances first, each as a share of the four first pages.
    assert page.index('<th scope="row">Di</th><td>3</td><td>75.0%</td>') < page.index(
        '<th scope="row">Cy</th><td>1</td><td>25.0%</td>'
    )
    never = page[page.index('id="never-heading"') :]
    assert "<li>Ada</li>" in never
    assert "<li>Bo</li>" in never
    assert "Di" not in never
    # The staff navigation links the page as the current one.
    assert f'href="{URL}" aria-current="page"' in page
    assert 'value="7" id="id_days_0" required checked' in page


def test_the_default_period_is_thirty_days(four):
    staff = make_user(role="staff", mfa=True)
    page = signed_in(staff).get(URL).content.decode()
    assert "<dt>First pages shown</dt>\n    <dd>4</dd>" in page
    assert 'value="30" id="id_days_1" required checked' in page


def test_a_period_not_offered_is_an_error_at_the_field(four):
    staff = make_user(role="staff", mfa=True)

    response = signed_in(staff).get(URL, {"days": "365"})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_days-error">Choose one of the periods offered' in page
    assert "First pages shown" not in page


def test_many_therapists_are_paged(reference_data):
    staff = make_user(role="staff", mfa=True)
    therapists = [make_therapist(display_name=f"T{n:03d}") for n in range(55)]
    exposure_record(
        therapist_ids=[t.pk for t in therapists], day=timezone.localdate(), viewer="person 6"
    )

    client = signed_in(staff)
    first = client.get(URL).content.decode()
    second = client.get(URL, {"page": "2"}).content.decode()

    assert first.count('<th scope="row">') == 50
    assert second.count('<th scope="row">') == 5
    assert '<th scope="row">T054</th>' in second
    assert "Page 1 of 2" in first


@pytest.mark.parametrize(
    "account",
    [
        {"role": "client"},
        {"role": "client", "mfa": True},
        {"role": "therapist", "mfa": True},
    ],
)
def test_anyone_but_staff_gets_the_same_404(reference_data, account):
    response = signed_in(make_user(**account)).get(URL)
    assert response.status_code == 404


def test_a_signed_out_visitor_is_sent_to_sign_in(db):
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_page_only_reads(four):
    staff = make_user(role="staff", mfa=True)
    assert signed_in(staff).post(URL, {"days": "7"}).status_code == 405


def test_the_page_makes_as_many_queries_for_many_therapists_as_for_few(
    reference_data, django_assert_max_num_queries
):
    staff = make_user(role="staff", mfa=True)
    client = signed_in(staff)
    few = [make_therapist() for _ in range(3)]
    exposure_record(
        therapist_ids=[t.pk for t in few[:2]], day=timezone.localdate(), viewer="person 7"
    )
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    many = [make_therapist() for _ in range(30)]
    exposure_record(
        therapist_ids=[t.pk for t in many[:20]], day=timezone.localdate(), viewer="person 8"
    )
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(URL).status_code == 200


# --- each person counts once a day ------------------------------------------------------------


RESULTS = "/match/results/"
MATCH_API = "/api/v1/match"


def _counts() -> tuple[int, dict[int, int]]:
    """(first pages today, appearances by therapist today)."""
    today = timezone.localdate()
    rows = Exposure.objects.filter(day=today)
    total = sum(row.first_page_count for row in rows if row.therapist_id is None)
    return total, {
        row.therapist_id: row.first_page_count for row in rows if row.therapist_id is not None
    }


def test_reloading_the_results_counts_one_first_page(reference_data):
    shown = make_therapist(display_name="Shown")
    visitor = Client()

    for _ in range(10):
        assert visitor.get(RESULTS).status_code == 200

    assert _counts() == (1, {shown.pk: 1})


def test_another_visitor_and_a_signed_in_person_count_once_each(reference_data):
    shown = make_therapist(display_name="Shown")
    person = make_user(role="client")
    Client().get(RESULTS)
    Client().get(RESULTS)
    # The same account in two browsers is one person.
    for _ in range(3):
        signed_in(person).get(RESULTS)

    assert _counts() == (3, {shown.pk: 3})


def test_repeated_anonymous_requests_to_the_api_count_once(reference_data):
    shown = make_therapist(display_name="Shown")
    body = json.dumps({"concerns": ["anxiety"]})

    for _ in range(5):
        response = Client().post(MATCH_API, body, content_type="application/json")
        assert response.status_code == 200, response.content[:300]
    assert _counts() == (1, {shown.pk: 1})

    other = json.dumps({"concerns": ["grief"]})
    assert Client().post(MATCH_API, other, content_type="application/json").status_code == 200
    assert _counts() == (2, {shown.pk: 2})


def test_a_therapist_new_to_the_persons_first_page_adds_only_them(reference_data):
    first, second = make_therapist(display_name="First"), make_therapist(display_name="Second")
    today = timezone.localdate()

    exposure_record(therapist_ids=[first.pk], day=today, viewer="session:abc")
    exposure_record(therapist_ids=[first.pk, second.pk], day=today, viewer="session:abc")
    exposure_record(therapist_ids=[second.pk, first.pk], day=today, viewer="session:abc")

    assert _counts() == (1, {first.pk: 1, second.pk: 1})


def test_the_next_day_counts_again_and_yesterdays_record_of_who_was_counted_goes(
    reference_data,
):
    shown = make_therapist(display_name="Shown")
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    exposure_record(therapist_ids=[shown.pk], day=yesterday, viewer="account:7")

    exposure_record(therapist_ids=[shown.pk], day=today, viewer="account:7")

    assert _counts() == (1, {shown.pk: 1})
    assert Exposure.objects.get(day=yesterday, therapist=shown).first_page_count == 1
    assert list(ExposureSeen.objects.values_list("day", flat=True)) == [today]


def test_who_was_counted_is_kept_as_a_keyed_hash_not_the_key(reference_data):
    shown = make_therapist(display_name="Shown")
    visitor = Client()
    visitor.get(RESULTS)
    session_key = visitor.session.session_key
    assert session_key

    [seen] = ExposureSeen.objects.all()

    assert session_key not in seen.viewer
    assert len(seen.viewer) == 64
    assert seen.therapist_ids == [shown.pk]


# --- who was counted is erased with the person, and past days by housekeeping -----------------


def _seen_hash(viewer: str, day: dt.date) -> str:
    """The stored value, computed here from Django's documented HMAC recipe (the key is
    SHA-256 of the salt and the secret) rather than through the service."""
    key = hashlib.sha256(f"rapport.matching.exposure{settings.SECRET_KEY}".encode()).digest()
    message = f"{day.isoformat()}:{viewer}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def test_a_signed_in_persons_row_is_their_accounts_hash(reference_data):
    shown = make_therapist(display_name="Shown")
    person = make_user(role="client")

    signed_in(person).get(RESULTS)

    [seen] = ExposureSeen.objects.all()
    assert seen.viewer == _seen_hash(f"account:{person.pk}", timezone.localdate())
    assert seen.therapist_ids == [shown.pk]


def _two_people_seen() -> tuple[Any, Any, int]:
    """Two signed-in people shown the same therapist today; the person also yesterday (a row
    housekeeping has not purged yet)."""
    shown = make_therapist(display_name="Shown")
    person, other = make_user(role="client"), make_user(role="client")
    signed_in(person).get(RESULTS)
    signed_in(other).get(RESULTS)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    ExposureSeen.objects.create(
        day=yesterday,
        viewer=_seen_hash(f"account:{person.pk}", yesterday),
        therapist_ids=[shown.pk],
    )
    assert ExposureSeen.objects.count() == 3
    return person, other, shown.pk


def _left() -> list[str]:
    return list(ExposureSeen.objects.values_list("viewer", flat=True))


def test_deleting_the_account_erases_its_rows_and_keeps_the_counts(reference_data):
    person, other, shown_id = _two_people_seen()
    counts = _counts()

    account_delete(user=person)

    today = timezone.localdate()
    assert _left() == [_seen_hash(f"account:{other.pk}", today)]
    assert _counts() == counts == (2, {shown_id: 2})


def test_the_erasure_step_erases_the_rows_of_someone_without_a_fit_profile(reference_data):
    person, other, _ = _two_people_seen()
    assert not FitProfile.objects.filter(owner=person).exists()

    erasure_steps()["fit_profile"](person)

    assert _left() == [_seen_hash(f"account:{other.pk}", timezone.localdate())]


def test_deleting_the_fit_profile_erases_the_accounts_rows(reference_data):
    person, other, shown_id = _two_people_seen()
    fit_profile(owner=person)

    response = signed_in(person).post(reverse("matching:profile_delete"))

    assert response.status_code == 302
    assert not FitProfile.objects.filter(owner=person).exists()
    assert _left() == [_seen_hash(f"account:{other.pk}", timezone.localdate())]
    assert _counts() == (2, {shown_id: 2})


def test_housekeeping_deletes_past_days_rows_and_keeps_todays(reference_data):
    shown = make_therapist(display_name="Shown")
    now = timezone.now()
    today = timezone.localdate(now)
    for days_ago, viewer in ((3, "session:a"), (1, "session:b"), (0, "session:c")):
        # Written past the service's own purge, as rows left from days nobody was counted.
        ExposureSeen.objects.create(
            day=today - dt.timedelta(days=days_ago),
            viewer=_seen_hash(viewer, today - dt.timedelta(days=days_ago)),
            therapist_ids=[shown.pk],
        )

    step = dict(housekeeping_steps())["exposure records of past days deleted"]

    assert step(now) == 2
    assert list(ExposureSeen.objects.values_list("day", flat=True)) == [today]
    assert step(now) == 0  # idempotent
    assert ExposureSeen.objects.count() == 1
