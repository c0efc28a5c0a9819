"""The directory's hand-written SQL (rapport.core.rawsql) against the ORM definitions it
spells out again, and the values it returns read the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import DatabaseError, NotSupportedError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.core.rawsql import (
    fetch_row_sets,
    fetch_rows,
    instances_from_rows,
    model_columns,
    placeholders,
)
from rapport.directory.cards import result_cards_by_id
from rapport.directory.models import AccessibilityFeature, Concern, Licence, TherapistProfile
from rapport.directory.selectors import (
    current_licence_sql,
    therapist_profile_for_api,
    therapist_result_rows,
)
from tests.directory.factories import make_licence, make_office, make_therapist

pytestmark = pytest.mark.django_db


def test_the_current_licence_condition_agrees_with_the_querysets_definition():
    today = dt.date(2026, 3, 8)
    expiries = {
        "never": None,
        "yesterday": today - dt.timedelta(days=1),
        "today": today,
        "tomorrow": today + dt.timedelta(days=1),
        "last year": today - dt.timedelta(days=365),
    }
    for label, expires_on in expiries.items():
        Licence.objects.filter(therapist=make_therapist()).update(
            number=label, expires_on=expires_on
        )

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT l.number FROM {Licence._meta.db_table} l"  # noqa: S608
            f" WHERE {current_licence_sql('l')}",
            [today],
        )
        by_sql = {row[0] for row in cursor.fetchall()}
    by_orm = set(Licence.objects.current(on=today).values_list("number", flat=True))

    assert by_sql == by_orm
    # And the answer itself, read by hand: no expiry, or expiring today or later.
    assert by_sql == {"never", "today", "tomorrow"}


def test_result_rows_have_python_types_whatever_the_database():
    soon = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    therapist = make_therapist(languages=["fr", "en"], offers_phone=True, next_consultation_at=soon)
    expired = make_licence(therapist, jurisdiction_id="CA-BC", regulator="BCACC", number="9")
    Licence.objects.filter(pk=expired.pk).update(expires_on=dt.date(2020, 1, 1))
    make_licence(therapist, jurisdiction_id="CA-AB", regulator="CAP", number="10")

    rows = therapist_result_rows(ids=[therapist.pk, 999_999_999], now=timezone.now())

    assert list(rows) == [therapist.pk]  # an id that is gone is simply absent
    row = rows[therapist.pk]
    assert row.public_id == therapist.public_id
    assert isinstance(row.public_id, uuid.UUID)
    assert row.next_consultation_at == soon
    assert row.next_consultation_at.tzinfo is not None
    assert (row.offers_in_person, row.offers_video, row.offers_phone) == (False, True, True)
    assert all(
        type(flag) is bool for flag in (row.accepting_new_clients, row.has_video_introduction)
    )
    assert row.licensed_in == ["CA-AB", "CA-ON"]  # current ones only, by code
    assert row.languages == ["en", "fr"]  # display order
    assert therapist_result_rows(ids=[], now=timezone.now()) == {}


def test_profile_lists_current_licences_by_name_and_offices_with_or_without_features():
    therapist = make_therapist()
    expired = make_licence(therapist, jurisdiction_id="CA-BC", regulator="BCACC", number="9")
    Licence.objects.filter(pk=expired.pk).update(expires_on=dt.date(2020, 1, 1))
    make_licence(therapist, jurisdiction_id="CA-AB", regulator="CAP", number="10")
    featured = make_office(therapist, label="Main")
    featured.accessibility_features.set(AccessibilityFeature.objects.order_by("-id")[:2])
    make_office(therapist, label="Annex", postal_code="")

    profile = therapist_profile_for_api(public_id=therapist.public_id, now=timezone.now())

    assert profile is not None
    assert [(licence.jurisdiction_name, licence.number) for licence in profile.licences] == [
        ("Alberta", "10"),
        ("Ontario", therapist.licences.get(jurisdiction_id="CA-ON").number),
    ]
    assert profile.licences[0].expires_on is None
    assert [office.label for office in profile.offices] == ["Main", "Annex"]
    expected_features = [
        (feature.slug, feature.name)
        for feature in featured.accessibility_features.order_by("sort_order", "name", "id")
    ]
    assert profile.offices[0].accessibility_features == expected_features
    assert profile.offices[1].accessibility_features == []
    assert profile.offices[1].postal_code == ""


on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@on_postgresql
def test_on_postgresql_the_profiles_hand_written_reads_are_prepared_after_five_runs():
    therapist = make_therapist(concerns=["anxiety", "grief"])
    make_office(therapist, label="Main")
    licences_sql = f"FROM {Licence._meta.db_table} l"

    answers = []
    for run in range(1, 8):
        profile = therapist_profile_for_api(public_id=therapist.public_id, now=timezone.now())
        assert profile is not None
        answers.append((profile.licences, profile.offices, profile.terms))
        prepared = [sql for sql in _prepared_statements() if licences_sql in sql]
        assert len(prepared) == (1 if run > 5 else 0), run
    # The prepared statements answer as the first, planned, run did.
    assert answers[-1] == answers[0]
    assert [office.label for office in answers[-1][1]] == ["Main"]
    assert [slug for slug, _name in answers[-1][2]["concerns"]] == ["anxiety", "grief"]


@on_postgresql
def test_on_postgresql_whole_numbers_of_any_size_share_one_prepared_statement():
    # psycopg would send 6 as int2 and 40000 as int4: two statements, neither run five times.
    sql = f"SELECT id FROM {TherapistProfile._meta.db_table} WHERE id IN (%s, %s)"  # noqa: S608
    for _ in range(4):
        fetch_rows(sql, [5, 6])
        fetch_rows(sql, [5, 40_000])
    assert (
        len([statement for statement in _prepared_statements() if "IN ($1, $2)" in statement]) == 1
    )


@on_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_on_postgresql_a_prepared_read_survives_another_process_changing_its_columns_type():
    # A deployment's migration, run by another process while this one keeps its connection.
    other = connection.get_new_connection(connection.get_connection_params())
    other.autocommit = True
    other.execute("CREATE TABLE rawsql_probe (id integer PRIMARY KEY, word varchar(10))")
    try:
        other.execute("INSERT INTO rawsql_probe VALUES (1, 'calm')")
        sql = "SELECT id, word FROM rawsql_probe WHERE id = %s"
        for _ in range(6):
            assert fetch_rows(sql, [1]) == [(1, "calm")]
        assert [statement for statement in _prepared_statements() if "rawsql_probe" in statement]

        other.execute("ALTER TABLE rawsql_probe ALTER COLUMN word TYPE varchar(20)")
        assert fetch_rows(sql, [1]) == [(1, "calm")]
        assert fetch_row_sets([(sql, [1]), (sql, [2])]) == [[(1, "calm")], []]

        for _ in range(6):  # prepared again, then changed again
            fetch_rows(sql, [1])
        other.execute("ALTER TABLE rawsql_probe ALTER COLUMN word TYPE varchar(30)")
        # Inside a transaction the stale statement's error aborts it: the caller's error,
        # once; the rollback makes psycopg forget its statements.
        with pytest.raises(NotSupportedError), transaction.atomic():
            fetch_rows(sql, [1])
        assert fetch_rows(sql, [1]) == [(1, "calm")]
    finally:
        other.execute("DROP TABLE rawsql_probe")
        other.close()


@on_postgresql
def test_on_postgresql_nothing_is_prepared_when_the_setting_is_off(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", {})
    therapist = make_therapist()
    for _ in range(6):
        assert therapist_profile_for_api(public_id=therapist.public_id, now=timezone.now())
    assert _prepared_statements() == []


def test_instances_read_by_hand_hold_the_values_the_orm_reads():
    therapist = make_therapist(
        concerns=["anxiety"], offers_phone=True, next_consultation_at=timezone.now()
    )
    TherapistProfile.objects.filter(pk=therapist.pk).update(
        sliding_scale_min_minor=4500, accepting_confirmed_at=timezone.now()
    )
    by_orm = TherapistProfile.objects.get(pk=therapist.pk)

    [(by_hand, extra)] = instances_from_rows(
        TherapistProfile,
        fetch_rows(
            f"SELECT {model_columns(TherapistProfile, 'p')}, 'more'"  # noqa: S608
            f" FROM {TherapistProfile._meta.db_table} p WHERE p.id = %s",
            [therapist.pk],
        ),
    )

    assert extra == ("more",)
    assert by_hand._state.adding is False
    fields = TherapistProfile._meta.concrete_fields
    assert [(field.attname, getattr(by_hand, field.attname)) for field in fields] == [
        (field.attname, getattr(by_orm, field.attname)) for field in fields
    ]
    # Typed as the ORM types them, whatever the database hands back.
    assert isinstance(by_hand.accepting_confirmed_at, dt.datetime)
    assert by_hand.accepting_confirmed_at.tzinfo is not None
    assert isinstance(by_hand.public_id, uuid.UUID)


def test_statements_read_together_answer_as_read_one_by_one():
    therapist = make_therapist(concerns=["anxiety", "grief"])
    statements: list[tuple[str, list[Any]]] = [
        (f"SELECT id FROM {TherapistProfile._meta.db_table} WHERE id = %s", [therapist.pk]),  # noqa: S608
        ("SELECT %s, %s", ["two", 2]),
        (f"SELECT id FROM {TherapistProfile._meta.db_table} WHERE id = %s", [-1]),  # noqa: S608
    ]
    assert fetch_row_sets(statements) == [fetch_rows(sql, p) for sql, p in statements]
    assert fetch_row_sets(statements) == [[(therapist.pk,)], [("two", 2)], []]


def test_a_failing_statement_among_several_raises_the_databases_error_and_loses_nothing():
    therapist = make_therapist()
    statements: list[tuple[str, list[Any]]] = [
        ("SELECT 1", []),
        ("SELECT no_such_column FROM " + TherapistProfile._meta.db_table, []),  # noqa: S608
    ]
    with pytest.raises(DatabaseError), transaction.atomic():
        fetch_row_sets(statements)
    # The connection still serves the next request's statements.
    assert fetch_row_sets([("SELECT %s", [5])]) == [[(5,)]]
    assert TherapistProfile.objects.filter(pk=therapist.pk).exists()


def test_an_in_list_beyond_what_a_statement_may_carry_is_still_read():
    # PostgreSQL's protocol carries at most 65,535 parameters per statement: such a list goes
    # with its values written into the SQL, as Django's own cursors send every statement.
    therapist = make_therapist()
    ids = [therapist.pk, *range(-70_000, 0)]
    rows = fetch_rows(
        f"SELECT id FROM {TherapistProfile._meta.db_table}"  # noqa: S608
        f" WHERE id IN ({placeholders(len(ids))})",
        ids,
    )
    assert rows == [(therapist.pk,)]


def _search_page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/therapists/", {"concern": "anxiety"})
    assert response.status_code == 200
    return len(queries)


def test_the_search_page_reads_the_same_number_of_rows_however_many_cards_it_shows(client):
    for _ in range(2):
        make_office(make_therapist(concerns=["anxiety", "grief"], offers_in_person=True))
    few = _search_page_queries(client)
    for _ in range(8):
        therapist = make_therapist(concerns=["anxiety"])
        make_licence(therapist, jurisdiction_id="CA-AB", regulator="CAP", number="77")

    assert _search_page_queries(client) == few


def test_cards_leave_out_therapists_hidden_since_the_search_and_show_what_the_card_needs():
    now = timezone.now()
    shown = make_therapist(
        display_name="Dr. Ana María Solís",
        concerns=["grief", "anxiety"],
        offers_in_person=True,
        photo="therapists/ana.jpg",
        sliding_scale_min_minor=9050,
        practice_start_year=now.year - 1,
    )
    make_office(shown, city="Hamilton")
    make_office(shown, city="Toronto")
    hidden = make_therapist(is_listed=False)
    stale = make_therapist(accepting_confirmed_at=now - dt.timedelta(days=400))

    cards = result_cards_by_id(ids=[shown.pk, hidden.pk, stale.pk], now=now)

    assert list(cards) == [shown.pk]
    card = cards[shown.pk]
    assert card.initials == "AS"
    assert card.photo_url == shown.photo_url  # the photo view, as every page links it
    assert card.photo_url.startswith(f"/therapists/{shown.public_id}/photo")
    assert card.location == "Hamilton"  # the first office, by id
    assert card.delivery == "In person and video"
    assert card.fee == "CA$150"
    assert card.sliding_scale_from == "CA$90.50"
    assert card.experience == "1 year in practice"
    assert card.licensed_in == "Licensed in Ontario"
    expected = list(
        Concern.objects.filter(slug__in=["grief", "anxiety"])
        .order_by("sort_order", "name")
        .values_list("name", flat=True)
    )
    assert card.concerns == expected
    assert card.next_consultation == ""
