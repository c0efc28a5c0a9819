"""Passwords are hashed with Argon2 (argon2id) everywhere but in the test suite, which puts a
fast hasher first so that thousands of sign-ins do not each cost a sixth of a second."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PRODUCTION_PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
ROOT = Path(__file__).resolve().parents[2]


def _hashers_in(environment: dict[str, str]) -> list[str]:
    """PASSWORD_HASHERS as a fresh process with ``environment`` loads the settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RAPPORT_")}
    env.update(environment, DJANGO_SETTINGS_MODULE="rapport.settings")
    env.pop("DEBUG", None)
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.PASSWORD_HASHERS))"
    )
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    )
    return list(json.loads(result.stdout))


@pytest.mark.parametrize(
    "environment",
    [
        {"RAPPORT_ENV": "development"},
        {
            "RAPPORT_ENV": "production",
            "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-enough-0123456789",
            "ALLOWED_HOSTS": "rapport.example.org",
            "SITE_URL": "https://rapport.example.org",
            "FIELD_ENCRYPTION_KEYS": "uQ1ZmE2Y7Rz4y0oTjX9vYk1cHh3nJ8bW5sQe6fLpA0M=",
        },
    ],
    ids=["development", "production"],
)
def test_every_environment_but_the_tests_hashes_with_argon2(environment):
    assert _hashers_in(environment) == PRODUCTION_PASSWORD_HASHERS


def test_the_test_settings_only_put_a_fast_hasher_in_front():
    from django.conf import settings

    in_tests = list(settings.PASSWORD_HASHERS)
    assert in_tests == [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *PRODUCTION_PASSWORD_HASHERS,
    ]
