"""Encryption of health data at rest, with keys that can be rotated without downtime.

Values are sealed with Fernet (AES-128-CBC plus an HMAC-SHA256 over the whole token), so a
value changed in the database or read with the wrong key is refused rather than misread.
``settings.FIELD_ENCRYPTION_KEYS`` lists the keys newest first: the first seals every new
value, and all of them are tried when opening one. Rotating is therefore: put a new key in
front, restart, run ``rapport rotate_encryption_keys`` (re-seals everything under the new key),
check with ``--check``, then drop the old key.

A stolen database backup is unreadable without the keys, which live only in the environment (or
a mounted secret file), never in the database or the repository.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from rapport.core.env import Env

SETTING = "FIELD_ENCRYPTION_KEYS"

# Development and tests need a key that stays the same across restarts (or the demo database
# becomes unreadable); deriving it from a published phrase makes it obviously worthless as a
# secret, and production refuses it.
DEVELOPMENT_FIELD_ENCRYPTION_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"rapport development-only field encryption key: NOT A SECRET").digest()
).decode("ascii")

GENERATE_KEY_HINT = (
    "generate one with `python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'`"
)

# Fernet's own check decodes leniently (it skips characters outside the alphabet), so a
# mangled key could still pass it; a real key is exactly 32 bytes in url-safe base64.
_KEY_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}=")


class UndecryptableValue(Exception):
    """A stored value that none of the configured keys can open.

    Either it was sealed under a key that has since been removed from FIELD_ENCRYPTION_KEYS, or
    the stored bytes were altered. The message never carries the value (there is no plaintext to
    show, and the ciphertext would only help an attacker).
    """


def validate_field_encryption_keys(keys: Sequence[str], *, variable: str = SETTING) -> None:
    """Refuse an empty list, a malformed key or a repeated key, naming the key's position.

    The key itself is never echoed: error messages end up in terminals, CI logs and tickets.
    """
    if not keys:
        raise ImproperlyConfigured(f"{variable} must list at least one key; {GENERATE_KEY_HINT}.")
    seen: dict[str, int] = {}
    for position, key in enumerate(keys, start=1):
        where = f"{variable}: key {position} of {len(keys)} (counting newest first)"
        if not isinstance(key, str) or not _KEY_SHAPE.fullmatch(key):
            raise ImproperlyConfigured(
                f"{where} is not a Fernet key (32 random bytes in url-safe base64, "
                f"44 characters ending in '='); {GENERATE_KEY_HINT}."
            )
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"{where} is not a Fernet key; {GENERATE_KEY_HINT}."
            ) from None
        if key in seen:
            raise ImproperlyConfigured(f"{where} repeats key {seen[key]}; list each key once.")
        seen[key] = position


def field_encryption_keys_from_env(env: Env, *, production: bool) -> list[str]:
    """Read FIELD_ENCRYPTION_KEYS (or FIELD_ENCRYPTION_KEYS_FILE): keys newest first.

    Keys may be separated by commas or by whitespace (one per line in a secret file). Without
    the variable, development and tests use the fixed development key; production refuses to
    start, and refuses the development key anywhere in the list.
    """
    raw = env.str(SETTING, "")
    keys = [key for key in re.split(r"[\s,]+", raw) if key]
    if not keys:
        if production:
            raise ImproperlyConfigured(
                f"{SETTING} must be set in production: the keys that encrypt health data at "
                f"rest, newest first, separated by commas; {GENERATE_KEY_HINT}."
            )
        return [DEVELOPMENT_FIELD_ENCRYPTION_KEY]
    validate_field_encryption_keys(keys)
    if production and DEVELOPMENT_FIELD_ENCRYPTION_KEY in keys:
        position = keys.index(DEVELOPMENT_FIELD_ENCRYPTION_KEY) + 1
        raise ImproperlyConfigured(
            f"{SETTING}: key {position} of {len(keys)} (counting newest first) is the published "
            f"development key, which protects nothing; {GENERATE_KEY_HINT}."
        )
    return keys


# Built once per process from the setting (building is cheap but not free: it derives the AES
# and HMAC keys); tests that override the setting reset it through the signal below.
_cached_multi_fernet: MultiFernet | None = None
_cached_newest_fernet: Fernet | None = None


def _keys() -> list[str]:
    keys = list(getattr(settings, SETTING, []))
    validate_field_encryption_keys(keys, variable=f"settings.{SETTING}")
    return keys


def multi_fernet() -> MultiFernet:
    """All configured keys: seals with the newest, opens with any."""
    global _cached_multi_fernet
    if _cached_multi_fernet is None:
        _cached_multi_fernet = MultiFernet([Fernet(key) for key in _keys()])
    return _cached_multi_fernet


def _newest_fernet() -> Fernet:
    global _cached_newest_fernet
    if _cached_newest_fernet is None:
        _cached_newest_fernet = Fernet(_keys()[0])
    return _cached_newest_fernet


@receiver(setting_changed, dispatch_uid="rapport.core.crypto.reset_keys")
def _reset_keys(*, setting: str, **kwargs: Any) -> None:
    global _cached_multi_fernet, _cached_newest_fernet
    if setting == SETTING:
        _cached_multi_fernet = None
        _cached_newest_fernet = None


def encrypt(plaintext: str) -> str:
    """Seal ``plaintext`` under the newest key. Each call gives a different token (random IV)."""
    return multi_fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """Open a token sealed under any configured key; ``UndecryptableValue`` if none can."""
    try:
        return multi_fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as error:
        raise UndecryptableValue(
            f"A stored value cannot be decrypted with any key in {SETTING} (was it sealed under "
            "a key that has since been removed, or altered in the database?)."
        ) from error


def rotate(token: str) -> str:
    """Re-seal a token under the newest key, keeping its original timestamp."""
    try:
        return multi_fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as error:
        raise UndecryptableValue(
            f"A stored value cannot be re-encrypted: no key in {SETTING} opens it."
        ) from error


def is_under_newest_key(token: str) -> bool:
    """Whether the token was sealed with the newest key (checks the HMAC, decrypts nothing)."""
    try:
        _newest_fernet().extract_timestamp(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def is_decryptable(token: str) -> bool:
    """Whether any configured key opens the token (checks the HMACs, decrypts nothing)."""
    try:
        multi_fernet().extract_timestamp(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


@dataclass
class KeyTally:
    """Tokens counted by the key that seals them: the newest, another configured one (stale,
    for rotation), or none configured (undecryptable)."""

    current: int = 0
    stale: int = 0
    undecryptable: int = 0

    def add(self, token: str) -> None:
        if is_under_newest_key(token):
            self.current += 1
        elif is_decryptable(token):
            self.stale += 1
        else:
            self.undecryptable += 1

    def as_tuple(self) -> tuple[int, int, int]:
        return self.current, self.stale, self.undecryptable


# --- secrets kept outside encrypted fields -------------------------------------------------
# Some encrypted values live where EncryptedTextField cannot reach them (a third-party model's
# JSON, such as allauth's authenticator secrets). Their app registers a rotator here so
# `rapport rotate_encryption_keys` moves them to the newest key with everything else.


class ExtraSecrets:
    """Counts and rotates one family of encrypted values that live outside encrypted fields."""

    label: str = ""

    def count(self) -> tuple[int, int, int]:
        """(under the newest key, stale, undecryptable)."""
        raise NotImplementedError

    def rotate(self) -> int:
        """Re-encrypt every stale value; return how many were rewritten."""
        raise NotImplementedError


_extra_secrets: list[ExtraSecrets] = []


def register_extra_secrets(secrets: ExtraSecrets) -> None:
    if all(type(existing) is not type(secrets) for existing in _extra_secrets):
        _extra_secrets.append(secrets)


def extra_secrets() -> list[ExtraSecrets]:
    return list(_extra_secrets)
