"""Settings from the environment: each typed reader, then whole start-ups in a clean process.

The start-up tests run the real ``rapport.settings`` in a subprocess with an environment built
from scratch, so nothing from the developer's shell (or the PostgreSQL run's DATABASE_URL) leaks
in, and a bad value is seen exactly as a deployment would see it.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from rapport.core.env import Env
from rapport.settings import DEVELOPMENT_SECRET_KEY

# --- Env.str -------------------------------------------------------------------------------


def test_str_returns_the_value_as_given():
    assert Env({"GREETING": " hello "}).str("GREETING") == " hello "


@pytest.mark.parametrize("source", [{}, {"GREETING": ""}], ids=["unset", "empty"])
def test_str_falls_back_to_the_default_when_unset_or_empty(source):
    assert Env(source).str("GREETING", "hi") == "hi"


@pytest.mark.parametrize("source", [{}, {"GREETING": ""}], ids=["unset", "empty"])
def test_str_without_a_default_names_the_missing_variable(source):
    with pytest.raises(ImproperlyConfigured) as raised:
        Env(source).str("GREETING")
    assert str(raised.value) == "GREETING must be set."


def test_str_reads_os_environ_when_no_mapping_is_given(monkeypatch):
    monkeypatch.setenv("RAPPORT_TEST_GREETING", "from the process")
    assert Env().str("RAPPORT_TEST_GREETING") == "from the process"


# --- Env.bool ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "TRUE", " yes ", "On"])
def test_bool_reads_true_spellings(value):
    assert Env({"FLAG": value}).bool("FLAG", default=False) is True


@pytest.mark.parametrize("value", ["0", "false", "False", " no ", "OFF", ""])
def test_bool_reads_false_spellings(value):
    assert Env({"FLAG": value}).bool("FLAG", default=True) is False


@pytest.mark.parametrize("default", [True, False])
def test_bool_falls_back_to_the_default_when_unset(default):
    assert Env({}).bool("FLAG", default=default) is default


@pytest.mark.parametrize("value", ["maybe", "2", "y"])
def test_bool_rejects_other_words_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured) as raised:
        Env({"FLAG": value}).bool("FLAG", default=False)
    assert str(raised.value) == (
        f"FLAG must be a boolean (one of 1/0, true/false, yes/no, on/off), got {value!r}."
    )


# --- Env.int -------------------------------------------------------------------------------


def test_int_reads_a_whole_number_ignoring_surrounding_spaces():
    assert Env({"COUNT": " 42 "}).int("COUNT", 7) == 42


def test_int_reads_a_negative_number():
    assert Env({"COUNT": "-3"}).int("COUNT", 7) == -3


@pytest.mark.parametrize("source", [{}, {"COUNT": ""}, {"COUNT": "  "}])
def test_int_falls_back_to_the_default_when_unset_or_blank(source):
    assert Env(source).int("COUNT", 7) == 7


@pytest.mark.parametrize("value", ["abc", "4.5", "1e3", "12 monkeys"])
def test_int_rejects_what_is_not_a_whole_number_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured) as raised:
        Env({"COUNT": value}).int("COUNT", 7)
    assert str(raised.value) == f"COUNT must be a whole number, got {value!r}."


@pytest.mark.parametrize("value", ["1", "10"])
def test_int_accepts_both_bounds(value):
    assert Env({"COUNT": value}).int("COUNT", 5, minimum=1, maximum=10) == int(value)


def test_int_below_the_minimum_names_the_variable_and_the_bound():
    with pytest.raises(ImproperlyConfigured) as raised:
        Env({"COUNT": "0"}).int("COUNT", 5, minimum=1, maximum=10)
    assert str(raised.value) == "COUNT must be at least 1, got 0."


def test_int_above_the_maximum_names_the_variable_and_the_bound():
    with pytest.raises(ImproperlyConfigured) as raised:
        Env({"COUNT": "11"}).int("COUNT", 5, minimum=1, maximum=10)
    assert str(raised.value) == "COUNT must be at most 10, got 11."


# --- Env.list ------------------------------------------------------------------------------


def test_list_splits_on_commas_and_drops_blanks():
    value = " example.org, www.example.org,,api.example.org , "
    assert Env({"HOSTS": value}).list("HOSTS") == [
        "example.org",
        "www.example.org",
        "api.example.org",
    ]


def test_list_of_an_empty_value_is_empty_even_with_a_default():
    assert Env({"HOSTS": ""}).list("HOSTS", ["localhost"]) == []


def test_list_falls_back_to_a_copy_of_the_default_when_unset():
    default = ["localhost"]
    hosts = Env({}).list("HOSTS", default)
    hosts.append("example.org")
    assert hosts == ["localhost", "example.org"]
    assert default == ["localhost"]


def test_list_without_a_default_is_empty_when_unset():
    assert Env({}).list("HOSTS") == []


# --- Env.choice ----------------------------------------------------------------------------


def test_choice_returns_an_allowed_value():
    assert Env({"MODE": "fast"}).choice("MODE", "slow", ("slow", "fast")) == "fast"


@pytest.mark.parametrize("source", [{}, {"MODE": ""}], ids=["unset", "empty"])
def test_choice_falls_back_to_the_default_when_unset_or_empty(source):
    assert Env(source).choice("MODE", "slow", ("slow", "fast")) == "slow"


@pytest.mark.parametrize("value", ["medium", "FAST"])
def test_choice_rejects_other_values_listing_the_choices(value):
    with pytest.raises(ImproperlyConfigured) as raised:
        Env({"MODE": value}).choice("MODE", "slow", ("slow", "fast"))
    assert str(raised.value) == f"MODE must be one of slow, fast, got {value!r}."


# --- *_FILE secrets ------------------------------------------------------------------------


def test_file_variable_supplies_the_value_without_its_trailing_newline(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("s3cret-value\n", encoding="utf-8")
    assert Env({"TOKEN_FILE": str(secret)}).str("TOKEN") == "s3cret-value"


def test_file_variable_wins_over_the_plain_variable(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("from-file", encoding="utf-8")
    env = Env({"TOKEN": "from-environment", "TOKEN_FILE": str(secret)})
    assert env.str("TOKEN") == "from-file"


def test_file_variable_feeds_every_typed_reader(tmp_path):
    (tmp_path / "port").write_text("5432\n", encoding="utf-8")
    (tmp_path / "debug").write_text("yes\n", encoding="utf-8")
    (tmp_path / "hosts").write_text("a.example, b.example\n", encoding="utf-8")
    (tmp_path / "mode").write_text("fast\n", encoding="utf-8")
    env = Env(
        {
            "PORT_FILE": str(tmp_path / "port"),
            "DEBUG_FILE": str(tmp_path / "debug"),
            "HOSTS_FILE": str(tmp_path / "hosts"),
            "MODE_FILE": str(tmp_path / "mode"),
        }
    )
    assert env.int("PORT", 1) == 5432
    assert env.bool("DEBUG", default=False) is True
    assert env.list("HOSTS") == ["a.example", "b.example"]
    assert env.choice("MODE", "slow", ("slow", "fast")) == "fast"


def test_empty_file_variable_is_ignored():
    assert Env({"TOKEN": "plain", "TOKEN_FILE": ""}).str("TOKEN") == "plain"


def test_missing_secret_file_names_the_file_variable(tmp_path):
    missing = tmp_path / "absent"
    with pytest.raises(ImproperlyConfigured) as raised:
        Env({"TOKEN_FILE": str(missing)}).str("TOKEN")
    assert str(raised.value) == (
        f"TOKEN_FILE points at {str(missing)!r}, which cannot be read: No such file or directory"
    )


def test_unreadable_secret_file_names_the_file_variable(tmp_path):
    # A directory cannot be read as a file, even by root (who ignores file permissions).
    with pytest.raises(ImproperlyConfigured) as raised:
        Env({"TOKEN_FILE": str(tmp_path)}).str("TOKEN")
    assert str(raised.value) == (
        f"TOKEN_FILE points at {str(tmp_path)!r}, which cannot be read: Is a directory"
    )


def test_secret_file_that_is_not_text_names_the_file_variable(tmp_path):
    binary = tmp_path / "token"
    binary.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ImproperlyConfigured) as raised:
        Env({"TOKEN_FILE": str(binary)}).str("TOKEN")
    assert str(raised.value) == f"TOKEN_FILE points at {str(binary)!r}, which is not UTF-8 text."


@pytest.mark.parametrize(
    ("source", "expected"),
    [({}, False), ({"TOKEN": ""}, False), ({"TOKEN": "x"}, True)],
    ids=["unset", "empty", "set"],
)
def test_is_set_only_for_a_non_empty_value(source, expected):
    assert Env(source).is_set("TOKEN") is expected


def test_is_set_counts_a_secret_file(tmp_path):
    (tmp_path / "token").write_text("x", encoding="utf-8")
    assert Env({"TOKEN_FILE": str(tmp_path / "token")}).is_set("TOKEN") is True


# --- start-up in a fresh process -----------------------------------------------------------

RAPPORT_COMMAND = Path(sys.executable).with_name("rapport")
SETUP_DJANGO = "import django; django.setup(); print('started')"


def _start(
    tmp_path: Path, variables: dict[str, str], command: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run Django's start-up (or a `rapport` command) with exactly these variables set."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "rapport.settings",
        # Development mode would otherwise create var/ (and a database) inside the checkout.
        "RAPPORT_VAR_DIR": str(tmp_path / "var"),
        **variables,
    }
    argv = command or [sys.executable, "-c", SETUP_DJANGO]
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        argv, env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def _refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The ImproperlyConfigured message that stopped start-up (the traceback's last line)."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    last_line = result.stderr.strip().splitlines()[-1]
    prefix = "django.core.exceptions.ImproperlyConfigured: "
    assert last_line.startswith(prefix), result.stderr
    return last_line.removeprefix(prefix)


@pytest.fixture
def production_variables(tmp_path: Path) -> dict[str, str]:
    """What a real deployment sets: a random 64-character key, hosts, a database, a var dir."""
    return {
        "RAPPORT_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
        "ALLOWED_HOSTS": "rapport.example.org,www.rapport.example.org",
        "SITE_URL": "https://rapport.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'rapport.sqlite3'}",
        "RAPPORT_VAR_DIR": str(tmp_path / "var"),
        # The key that encrypts health data at rest (see tests/core/test_crypto.py).
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }


def test_development_starts_with_no_variables_at_all(tmp_path):
    result = _start(tmp_path, {})
    assert (result.returncode, result.stdout) == (0, "started\n"), result.stderr


def test_production_starts_with_realistic_variables(tmp_path, production_variables):
    result = _start(tmp_path, production_variables)
    assert (result.returncode, result.stdout) == (0, "started\n"), result.stderr


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        pytest.param(
            {"SQLITE_BUSY_TIMEOUT_SECONDS": "abc"},
            "SQLITE_BUSY_TIMEOUT_SECONDS must be a whole number, got 'abc'.",
            id="busy-timeout-not-a-number",
        ),
        pytest.param(
            {"SQLITE_BUSY_TIMEOUT_SECONDS": "0"},
            "SQLITE_BUSY_TIMEOUT_SECONDS must be at least 1, got 0.",
            id="busy-timeout-zero",
        ),
        pytest.param(
            {"RAPPORT_ENV": "staging"},
            "RAPPORT_ENV must be one of development, test, production, got 'staging'.",
            id="unknown-posture",
        ),
        pytest.param(
            {"DATABASE_URL": "mysql://x"},
            "DATABASE_URL must be a sqlite:// or postgres:// URL.",
            id="unsupported-database",
        ),
        pytest.param(
            {"DEBUG": "maybe"},
            "DEBUG must be a boolean (one of 1/0, true/false, yes/no, on/off), got 'maybe'.",
            id="debug-not-a-boolean",
        ),
        pytest.param(
            {"VIDEO_STORAGE": "s3", "VIDEO_S3_BUCKET": "videos"},
            "With VIDEO_STORAGE=s3, set VIDEO_S3_MEDIA_ORIGIN (the https:// origin signed "
            "video URLs point at) or VIDEO_S3_ENDPOINT_URL.",
            id="s3-videos-without-an-origin-for-the-csp",
        ),
        pytest.param(
            {"VIDEO_SUBPROCESS_MEMORY_MB": "512"},
            "VIDEO_SUBPROCESS_MEMORY_MB must be at least 1024, got 512.",
            id="video-memory-too-small-to-work",
        ),
        pytest.param(
            {"EMAIL_PORT": "70000"},
            "EMAIL_PORT must be at most 65535, got 70000.",
            id="email-port-out-of-range",
        ),
        pytest.param(
            {"LOG_LEVEL": "verbose"},
            "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'verbose'.",
            id="unknown-log-level",
        ),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(tmp_path, variables, message):
    assert _refusal(_start(tmp_path, variables)) == message


def test_unknown_database_url_scheme_stops_start_up_naming_the_variable(tmp_path):
    refusal = _refusal(_start(tmp_path, {"DATABASE_URL": "nonsense://x"}))
    assert refusal.startswith("DATABASE_URL is not a usable database URL: Scheme 'nonsense://'")


PRINT_DATABASE_OPTIONS = (
    "import django; django.setup(); from django.conf import settings; "
    "print(sorted(settings.DATABASES['default'].get('OPTIONS', {}).items()))"
)


@pytest.mark.parametrize(
    ("variables", "options"),
    [
        pytest.param({}, "[('prepare_threshold', 5)]", id="default"),
        pytest.param({"DATABASE_PREPARED_STATEMENTS": "0"}, "[]", id="behind-a-pooler"),
    ],
)
def test_postgresql_prepares_repeated_statements_unless_told_not_to(tmp_path, variables, options):
    # Django's default (no prepared statements) suits PgBouncer's transaction mode only.
    result = _start(
        tmp_path,
        {"DATABASE_URL": "postgres://rapport@db.invalid/rapport", **variables},
        [sys.executable, "-c", PRINT_DATABASE_OPTIONS],
    )
    assert (result.returncode, result.stdout) == (0, options + "\n"), result.stderr


def test_unreadable_secret_key_file_stops_start_up(tmp_path, production_variables):
    del production_variables["SECRET_KEY"]
    missing = tmp_path / "no-such-secret"
    production_variables["SECRET_KEY_FILE"] = str(missing)
    assert _refusal(_start(tmp_path, production_variables)) == (
        f"SECRET_KEY_FILE points at {str(missing)!r}, which cannot be read: "
        "No such file or directory"
    )


def test_production_takes_the_secret_key_from_a_file(tmp_path, production_variables):
    key_file = tmp_path / "secret_key"
    key_file.write_text(production_variables.pop("SECRET_KEY") + "\n", encoding="utf-8")
    production_variables["SECRET_KEY_FILE"] = str(key_file)
    result = _start(tmp_path, production_variables)
    assert (result.returncode, result.stdout) == (0, "started\n"), result.stderr


# The rule as the message states it; the example command after it may be reworded.
SECRET_KEY_REFUSAL = (
    "SECRET_KEY must be set to a random value of at least 50 characters in production ("
)


@pytest.mark.parametrize(
    "secret_key",
    [None, "", DEVELOPMENT_SECRET_KEY, "k" * 49],
    ids=["unset", "empty", "development-key", "49-characters"],
)
def test_production_refuses_to_start_without_a_real_secret_key(
    tmp_path, production_variables, secret_key
):
    del production_variables["SECRET_KEY"]
    if secret_key is not None:
        production_variables["SECRET_KEY"] = secret_key
    assert _refusal(_start(tmp_path, production_variables)).startswith(SECRET_KEY_REFUSAL)


def test_production_accepts_a_secret_key_of_exactly_50_characters(tmp_path, production_variables):
    production_variables["SECRET_KEY"] = secrets.token_urlsafe(64)[:50]
    result = _start(tmp_path, production_variables)
    assert (result.returncode, result.stdout) == (0, "started\n"), result.stderr


@pytest.mark.parametrize("debug", ["1", "true"])
def test_production_refuses_to_start_with_debug_on(tmp_path, production_variables, debug):
    production_variables["DEBUG"] = debug
    assert _refusal(_start(tmp_path, production_variables)) == (
        "DEBUG must be off in production (unset DEBUG or set DEBUG=0)."
    )


@pytest.mark.parametrize("hosts", [None, "", " , "], ids=["unset", "empty", "only-commas"])
def test_production_refuses_to_start_without_allowed_hosts(tmp_path, production_variables, hosts):
    del production_variables["ALLOWED_HOSTS"]
    if hosts is not None:
        production_variables["ALLOWED_HOSTS"] = hosts
    assert _refusal(_start(tmp_path, production_variables)) == (
        "ALLOWED_HOSTS must list the site's host names in production."
    )


DEPLOY_CHECK = [str(RAPPORT_COMMAND), "check", "--deploy", "--fail-level", "WARNING"]


def test_deploy_check_passes_in_production(tmp_path, production_variables):
    result = _start(tmp_path, production_variables, DEPLOY_CHECK)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"


def test_deploy_check_fails_when_production_hardening_is_switched_off(
    tmp_path, production_variables
):
    # The passing run above means something only if this same command can fail.
    production_variables["SECURE_HSTS_SECONDS"] = "0"
    result = _start(tmp_path, production_variables, DEPLOY_CHECK)
    assert result.returncode == 1
    assert "(security.W004) You have not set a value for the SECURE_HSTS_SECONDS" in result.stderr
