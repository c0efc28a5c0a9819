"""EncryptedTextField: plain text in Python, only tokens in the database, no silent lookups."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ValidationError
from django.db import connection
from django.db.models import F, Q
from django.test import override_settings

from rapport.core import crypto
from rapport.core.crypto import UndecryptableValue
from rapport.core.fields import EncryptedTextField, encrypted_field_names
from tests.factories import make_user
from tests.healthdata_app.models import PrivateNote, Reflection

pytestmark = pytest.mark.django_db

SECRET = "I have not told anyone about the drinking."


def _raw(model, field: str, pk) -> Any:
    """The column exactly as the database holds it, bypassing the field."""
    table = model._meta.db_table
    column = model._meta.get_field(field).column
    # The key as the database stores it (SQLite keeps a UUID as 32 hex digits).
    db_pk = model._meta.pk.get_db_prep_value(pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [db_pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def owner():
    return make_user()


def test_the_column_holds_a_token_and_the_model_gives_back_the_text(owner):
    note = PrivateNote.objects.create(owner=owner, body=SECRET)

    stored = _raw(PrivateNote, "body", note.pk)
    assert SECRET not in stored
    assert stored.startswith("gAAAAA")  # a Fernet token: version byte 0x80, then a timestamp
    assert crypto.decrypt(stored) == SECRET
    assert PrivateNote.objects.get(pk=note.pk).body == SECRET
    assert note.body == SECRET  # saving leaves the attribute as plain text


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda note: note.save(), id="save"),
        pytest.param(lambda note: note.save(update_fields=["body"]), id="save-update-fields"),
        pytest.param(
            lambda note: PrivateNote.objects.filter(pk=note.pk).update(body=note.body),
            id="queryset-update",
        ),
        pytest.param(
            lambda note: PrivateNote.objects.bulk_update([note], ["body"]), id="bulk-update"
        ),
    ],
)
def test_every_way_of_writing_stores_a_token(owner, write):
    note = PrivateNote.objects.create(owner=owner, body="first")
    note.body = SECRET
    write(note)

    assert SECRET not in _raw(PrivateNote, "body", note.pk)
    assert PrivateNote.objects.get(pk=note.pk).body == SECRET


def test_bulk_create_stores_tokens(owner):
    notes = PrivateNote.objects.bulk_create(
        [PrivateNote(owner=owner, body=f"{SECRET} {n}") for n in range(3)]
    )
    assert all(SECRET not in _raw(PrivateNote, "body", note.pk) for note in notes)


def test_values_and_values_list_decrypt(owner):
    PrivateNote.objects.create(owner=owner, body=SECRET, title="t")
    assert list(PrivateNote.objects.values("title", "body")) == [{"title": "t", "body": SECRET}]
    assert list(PrivateNote.objects.values_list("body", flat=True)) == [SECRET]


def test_none_is_stored_as_null_and_empty_text_as_empty_text(owner):
    missing = Reflection.objects.create(author=owner, answer=None)
    empty = Reflection.objects.create(author=owner, answer="")

    assert _raw(Reflection, "answer", missing.pk) is None
    assert _raw(Reflection, "answer", empty.pk) == ""
    assert Reflection.objects.get(pk=missing.pk).answer is None
    assert Reflection.objects.get(pk=empty.pk).answer == ""


def test_isnull_and_equals_none_work(owner):
    missing = Reflection.objects.create(author=owner, answer=None)
    given = Reflection.objects.create(author=owner, answer="yes")

    assert list(Reflection.objects.filter(answer__isnull=True)) == [missing]
    assert list(Reflection.objects.filter(answer__isnull=False)) == [given]
    assert list(Reflection.objects.filter(answer=None)) == [missing]
    assert list(Reflection.objects.exclude(answer=None)) == [given]


@pytest.mark.parametrize(
    "condition",
    [
        {"body": SECRET},
        {"body__exact": SECRET},
        {"body__iexact": SECRET},
        {"body__contains": SECRET},
        {"body__icontains": SECRET},
        {"body__startswith": SECRET},
        {"body__in": [SECRET]},
        {"body__gt": SECRET},
        {"body__regex": SECRET},
    ],
    ids=lambda condition: next(iter(condition)),
)
def test_lookups_that_would_compare_tokens_are_refused_without_echoing_the_value(condition):
    lookup = next(iter(condition)).partition("__")[2] or "exact"
    with pytest.raises(FieldError) as raised:
        PrivateNote.objects.filter(**condition)
    assert str(raised.value) == (
        "healthdata_app.PrivateNote.body is encrypted (each stored value is a different "
        f"random-looking token), so the database cannot evaluate the {lookup!r} lookup on it; "
        "only 'isnull' is supported. Filter on other fields and compare the decrypted values in "
        "Python."
    )
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: PrivateNote.objects.exclude(body="x"), id="exclude"),
        pytest.param(lambda: PrivateNote.objects.filter(Q(body="x") | Q(title="x")), id="q"),
        pytest.param(lambda: PrivateNote.objects.filter(body__lower="x"), id="transform"),
        pytest.param(lambda: PrivateNote.objects.filter(body=F("title")), id="f-expression"),
        pytest.param(lambda: PrivateNote.objects.get_or_create(body="x"), id="get-or-create"),
    ],
)
def test_other_spellings_of_a_comparison_are_refused_too(owner, build):
    with pytest.raises(FieldError):
        build()


def test_a_value_under_a_removed_key_names_the_field_not_the_text(owner):
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        note = PrivateNote.objects.create(owner=owner, body=SECRET)
    with pytest.raises(UndecryptableValue) as raised:
        PrivateNote.objects.get(pk=note.pk)
    assert str(raised.value) == (
        "healthdata_app.PrivateNote.body: A stored value cannot be decrypted with any key in "
        "FIELD_ENCRYPTION_KEYS (was it sealed under a key that has since been removed, or "
        "altered in the database?)."
    )


def test_max_length_is_checked_on_the_text_not_the_token(owner):
    fits = Reflection(author=owner, answer="x" * 200)
    fits.full_clean()  # the token is far longer than 200 characters; only the text counts

    too_long = Reflection(author=owner, answer="x" * 201)
    with pytest.raises(ValidationError) as raised:
        too_long.full_clean()
    assert raised.value.message_dict == {
        "answer": ["Ensure this value has at most 200 characters (it has 201)."]
    }


def test_deconstruct_gives_the_import_path_and_options_for_migrations():
    field = EncryptedTextField(null=True, blank=True, max_length=200)
    _name, path, args, kwargs = field.deconstruct()
    assert (path, args, kwargs) == (
        "rapport.core.fields.EncryptedTextField",
        [],
        {"null": True, "blank": True, "max_length": 200},
    )
    assert EncryptedTextField(*args, **kwargs).deconstruct()[1:] == (path, args, kwargs)


@pytest.mark.parametrize("option", ["unique", "db_index"])
def test_indexing_or_uniqueness_is_a_system_check_error(option):
    field = EncryptedTextField(**{option: True})
    field.set_attributes_from_name("secret")
    field.model = PrivateNote
    assert [error.id for error in field.check()] == ["rapport.E101"]


def test_encrypted_field_names_lists_only_encrypted_fields():
    assert encrypted_field_names(PrivateNote) == ["body"]
    assert encrypted_field_names(Reflection) == ["answer"]
