"""Encryption keys: reading and validating them, sealing and opening values, and rotation."""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from rapport.core import crypto
from rapport.core.crypto import (
    DEVELOPMENT_FIELD_ENCRYPTION_KEY,
    UndecryptableValue,
    field_encryption_keys_from_env,
    validate_field_encryption_keys,
)
from rapport.core.env import Env
from tests.factories import make_user
from tests.healthdata_app.models import PrivateNote, Reflection

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
KEY_C = Fernet.generate_key().decode()


# --- reading the keys from the environment -------------------------------------------------


def test_development_and_tests_use_the_fixed_development_key_when_none_is_set():
    assert field_encryption_keys_from_env(Env({}), production=False) == [
        DEVELOPMENT_FIELD_ENCRYPTION_KEY
    ]


def test_the_development_key_is_the_same_in_every_process():
    # Derived from a constant, not generated: a demo database must stay readable after restart.
    assert DEVELOPMENT_FIELD_ENCRYPTION_KEY == "tJnVGlHDXz3rlptSuDJJHx4rM0llANEvxsoRjQytcp4="
    Fernet(DEVELOPMENT_FIELD_ENCRYPTION_KEY)


def test_keys_are_read_newest_first_separated_by_commas():
    env = Env({"FIELD_ENCRYPTION_KEYS": f"{KEY_A}, {KEY_B},"})
    assert field_encryption_keys_from_env(env, production=True) == [KEY_A, KEY_B]


def test_keys_can_come_from_a_file_one_per_line(tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text(f"{KEY_B}\n{KEY_A}\n", encoding="utf-8")
    env = Env({"FIELD_ENCRYPTION_KEYS_FILE": str(key_file)})
    assert field_encryption_keys_from_env(env, production=True) == [KEY_B, KEY_A]


@pytest.mark.parametrize("value", [None, "", " , "], ids=["unset", "empty", "only-commas"])
def test_production_refuses_to_start_without_keys(value):
    source = {} if value is None else {"FIELD_ENCRYPTION_KEYS": value}
    with pytest.raises(ImproperlyConfigured) as raised:
        field_encryption_keys_from_env(Env(source), production=True)
    assert str(raised.value) == (
        "FIELD_ENCRYPTION_KEYS must be set in production: the keys that encrypt health data at "
        "rest, newest first, separated by commas; generate one with `python -c 'from "
        "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
    )


def test_production_refuses_the_development_key_in_any_position():
    env = Env({"FIELD_ENCRYPTION_KEYS": f"{KEY_A},{DEVELOPMENT_FIELD_ENCRYPTION_KEY}"})
    with pytest.raises(ImproperlyConfigured) as raised:
        field_encryption_keys_from_env(env, production=True)
    assert str(raised.value).startswith(
        "FIELD_ENCRYPTION_KEYS: key 2 of 2 (counting newest first) is the published "
        "development key, which protects nothing;"
    )


@pytest.mark.parametrize(
    "bad_key",
    [
        "not-a-key",
        KEY_C[:-2] + "=",  # one character short
        KEY_C.replace("=", "A"),  # no padding: 44 characters that decode to 33 bytes
        "!" + KEY_C,  # a character outside url-safe base64, which Fernet itself would skip
        "+" + KEY_C[1:],  # standard base64, not url-safe
    ],
    ids=["word", "short", "unpadded", "foreign-character", "standard-base64"],
)
def test_a_malformed_key_is_refused_by_position_without_echoing_it(bad_key):
    env = Env({"FIELD_ENCRYPTION_KEYS": f"{KEY_A},{bad_key},{KEY_B}"})
    with pytest.raises(ImproperlyConfigured) as raised:
        field_encryption_keys_from_env(env, production=False)
    message = str(raised.value)
    assert message.startswith(
        "FIELD_ENCRYPTION_KEYS: key 2 of 3 (counting newest first) is not a Fernet key "
        "(32 random bytes in url-safe base64, 44 characters ending in '=');"
    )
    assert bad_key not in message
    assert KEY_A not in message
    assert KEY_B not in message


def test_a_repeated_key_is_refused():
    with pytest.raises(ImproperlyConfigured) as raised:
        validate_field_encryption_keys([KEY_A, KEY_B, KEY_A])
    assert str(raised.value) == (
        "FIELD_ENCRYPTION_KEYS: key 3 of 3 (counting newest first) repeats key 1; "
        "list each key once."
    )


def test_a_bad_key_in_overridden_settings_is_refused_when_first_used():
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A, "oops"]),
        pytest.raises(ImproperlyConfigured) as raised,
    ):
        crypto.encrypt("hello")
    assert str(raised.value).startswith(
        "settings.FIELD_ENCRYPTION_KEYS: key 2 of 2 (counting newest first) is not a Fernet key"
    )


# --- start-up in a fresh process -----------------------------------------------------------


def _start(tmp_path: Path, variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Django's start-up with exactly these variables (as in tests/core/test_env.py)."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "rapport.settings",
        "RAPPORT_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "rapport.example.org",
        "SITE_URL": "https://rapport.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'rapport.sqlite3'}",
        "RAPPORT_VAR_DIR": str(tmp_path / "var"),
        **variables,
    }
    code = "import django; django.setup(); print('started')"
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "-c", code],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_start_up_stops_without_keys_naming_the_variable(tmp_path):
    result = _start(tmp_path, {})
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "django.core.exceptions.ImproperlyConfigured: FIELD_ENCRYPTION_KEYS must be set in "
            "production"
        )
    )


def test_production_start_up_names_the_bad_key_without_showing_it(tmp_path):
    bad_key = "s3cr3t-but-malformed"
    result = _start(tmp_path, {"FIELD_ENCRYPTION_KEYS": f"{KEY_A},{bad_key}"})
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "django.core.exceptions.ImproperlyConfigured: FIELD_ENCRYPTION_KEYS: key 2 of 2 "
            "(counting newest first) is not a Fernet key"
        )
    )
    assert bad_key not in result.stderr
    assert KEY_A not in result.stderr


def test_production_starts_with_keys_from_a_secret_file(tmp_path):
    key_file = tmp_path / "field_keys"
    key_file.write_text(f"{KEY_A}\n", encoding="utf-8")
    result = _start(tmp_path, {"FIELD_ENCRYPTION_KEYS_FILE": str(key_file)})
    assert (result.returncode, result.stdout) == (0, "started\n"), result.stderr


# --- sealing and opening -------------------------------------------------------------------


def test_encrypt_then_decrypt_gives_back_the_text():
    text = "Slept badly again; the panic came back on the bus. Ça va mieux après — 夜"
    token = crypto.encrypt(text)
    assert crypto.decrypt(token) == text
    assert text not in token


def test_the_same_text_encrypts_to_a_different_token_each_time():
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_new_values_are_sealed_with_the_newest_key_and_old_ones_still_open():
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        old_token = crypto.encrypt("written under A")
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        new_token = crypto.encrypt("written under B")
        assert crypto.decrypt(old_token) == "written under A"
    assert Fernet(KEY_B).decrypt(new_token.encode()) == b"written under B"
    with pytest.raises(InvalidToken):
        Fernet(KEY_A).decrypt(new_token.encode())


def test_a_value_under_a_removed_key_raises_undecryptable_without_the_text():
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        token = crypto.encrypt("private words")
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]),
        pytest.raises(UndecryptableValue) as raised,
    ):
        crypto.decrypt(token)
    message = str(raised.value)
    assert message == (
        "A stored value cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS (was it sealed "
        "under a key that has since been removed, or altered in the database?)."
    )
    assert not isinstance(raised.value, InvalidToken)


@pytest.mark.parametrize("token", ["", "plain text", "gAAAAAB-truncated", "ünïcode"])
def test_something_that_is_not_a_token_raises_undecryptable(token):
    with pytest.raises(UndecryptableValue):
        crypto.decrypt(token)


def test_a_token_altered_by_one_character_is_refused():
    token = crypto.encrypt("do not tamper")
    altered = token[:30] + ("A" if token[30] != "A" else "B") + token[31:]
    with pytest.raises(UndecryptableValue):
        crypto.decrypt(altered)


def test_rotate_reseals_under_the_newest_key():
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        token = crypto.encrypt("rotate me")
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        rotated = crypto.rotate(token)
        assert crypto.is_under_newest_key(rotated) is True
        assert crypto.is_under_newest_key(token) is False
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):
        assert crypto.decrypt(rotated) == "rotate me"


def test_rotate_of_a_value_no_key_opens_raises_undecryptable():
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        token = crypto.encrypt("lost")
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]), pytest.raises(UndecryptableValue):
        crypto.rotate(token)


def test_changing_the_setting_takes_effect_at_once():
    # The MultiFernet is cached per process; the setting_changed hook must drop it.
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        under_a = crypto.encrypt("x")
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_C]):
        with pytest.raises(UndecryptableValue):
            crypto.decrypt(under_a)
        assert crypto.is_decryptable(under_a) is False
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        assert crypto.decrypt(under_a) == "x"


# --- `rapport rotate_encryption_keys` ------------------------------------------------------


def _raw_bodies() -> dict[str, str]:
    table = PrivateNote._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, body FROM {table}")  # noqa: S608 - fixed table name
        return {str(row[0]): row[1] for row in cursor.fetchall()}


def _rotate(*arguments: str) -> list[str]:
    out = io.StringIO()
    call_command("rotate_encryption_keys", *arguments, stdout=out)
    return _our_lines(out)


def _our_lines(out: io.StringIO) -> list[str]:
    # Other apps' encrypted models may be installed too; these tests speak for their own.
    return [line for line in out.getvalue().splitlines() if line.startswith("healthdata_app.")]


def _check() -> tuple[list[str], CommandError | None]:
    out = io.StringIO()
    try:
        call_command("rotate_encryption_keys", "--check", stdout=out)
    except CommandError as error:
        return _our_lines(out), error
    return _our_lines(out), None


@pytest.fixture
def notes_under_key_a(db):
    owner = make_user()
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        notes = [PrivateNote.objects.create(owner=owner, body=f"note {n}") for n in range(5)]
        Reflection.objects.create(author=owner, answer="a reflection")
        Reflection.objects.create(author=owner, answer=None)
        Reflection.objects.create(author=owner, answer="")
    return notes


def test_rotation_moves_every_value_to_the_newest_key(notes_under_key_a):
    before = _raw_bodies()
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        assert _rotate("--batch-size", "2") == [
            "healthdata_app.PrivateNote: 5 values re-encrypted",
            "healthdata_app.Reflection: 1 value re-encrypted",
        ]
    after = _raw_bodies()
    assert after.keys() == before.keys()
    assert all(after[key] != before[key] for key in before)
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):
        assert sorted(PrivateNote.objects.values_list("body", flat=True)) == [
            f"note {n}" for n in range(5)
        ]
        assert list(Reflection.objects.order_by("pk").values_list("answer", flat=True)) == [
            "a reflection",
            None,
            "",
        ]


def test_check_counts_stale_values_and_exits_1_before_rotation(notes_under_key_a):
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        lines, error = _check()
    assert lines == [
        "healthdata_app.PrivateNote: 0 values under the newest key, 5 stale",
        "healthdata_app.Reflection: 0 values under the newest key, 1 stale",
    ]
    assert error is not None
    assert error.returncode == 1
    assert str(error).endswith(
        "not yet under the newest key: run `rapport rotate_encryption_keys`."
    )


def test_check_reports_nothing_stale_after_rotation_and_exits_0(notes_under_key_a):
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        _rotate()
        lines, error = _check()
    assert lines == [
        "healthdata_app.PrivateNote: 5 values under the newest key, 0 stale",
        "healthdata_app.Reflection: 1 value under the newest key, 0 stale",
    ]
    assert error is None


def test_rotating_twice_reseals_again_and_stays_readable(notes_under_key_a):
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        _rotate()
        first = _raw_bodies()
        assert _rotate() == [
            "healthdata_app.PrivateNote: 5 values re-encrypted",
            "healthdata_app.Reflection: 1 value re-encrypted",
        ]
        second = _raw_bodies()
        assert _check()[1] is None
    assert all(second[key] != first[key] for key in first)  # a fresh IV every time
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):
        assert sorted(PrivateNote.objects.values_list("body", flat=True)) == [
            f"note {n}" for n in range(5)
        ]


def test_check_reports_values_no_key_opens(notes_under_key_a):
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_C]):
        lines, error = _check()
    assert lines == [
        "healthdata_app.PrivateNote: 0 values under the newest key, 0 stale, "
        "5 that no configured key opens",
        "healthdata_app.Reflection: 0 values under the newest key, 0 stale, "
        "1 that no configured key opens",
    ]
    assert error is not None
    assert error.returncode == 1
    assert str(error) == (
        "6 values cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS: restore the key "
        "they were written under."
    )


def test_rotation_stops_at_a_value_no_key_opens_and_changes_nothing_in_that_batch(
    notes_under_key_a,
):
    before = _raw_bodies()
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_C]), pytest.raises(UndecryptableValue):
        _rotate()
    assert _raw_bodies() == before


def test_batch_size_must_be_positive():
    with pytest.raises(CommandError) as raised:
        call_command("rotate_encryption_keys", "--batch-size", "0")
    assert "must be between 1 and 100000, got 0" in str(raised.value)
