"""Typed readers for settings that come from the environment.

Every helper names the variable in its error so that a typo in a deployment stops start-up with
a message a person can act on, instead of a half-working site. A secret may also be given as
``NAME_FILE`` pointing at a file (how container secrets are usually mounted).
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env:
    """Reads typed values from a mapping (``os.environ`` unless a test passes its own)."""

    def __init__(self, source: Mapping[builtins.str, builtins.str] | None = None) -> None:
        self._source: Mapping[builtins.str, builtins.str] = os.environ if source is None else source

    def _raw(self, name: builtins.str) -> builtins.str | None:
        file_name = self._source.get(f"{name}_FILE")
        if file_name:
            try:
                return Path(file_name).read_text(encoding="utf-8").strip()
            except OSError as error:
                raise ImproperlyConfigured(
                    f"{name}_FILE points at {file_name!r}, which cannot be read: {error.strerror}"
                ) from error
            except UnicodeDecodeError as error:
                raise ImproperlyConfigured(
                    f"{name}_FILE points at {file_name!r}, which is not UTF-8 text."
                ) from error
        return self._source.get(name)

    def is_set(self, name: builtins.str) -> builtins.bool:
        return self._raw(name) not in (None, "")

    def str(self, name: builtins.str, default: builtins.str | None = None) -> builtins.str:
        value = self._raw(name)
        if value is None or value == "":
            if default is None:
                raise ImproperlyConfigured(f"{name} must be set.")
            return default
        return value

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(
            f"{name} must be a boolean (one of 1/0, true/false, yes/no, on/off), got {value!r}."
        )

    def int(
        self,
        name: builtins.str,
        default: builtins.int,
        *,
        minimum: builtins.int | None = None,
        maximum: builtins.int | None = None,
    ) -> builtins.int:
        value = self._raw(name)
        if value is None or value.strip() == "":
            result = default
        else:
            try:
                result = int(value.strip())
            except ValueError as error:
                message = f"{name} must be a whole number, got {value!r}."
                raise ImproperlyConfigured(message) from error
        if minimum is not None and result < minimum:
            raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {result}.")
        if maximum is not None and result > maximum:
            raise ImproperlyConfigured(f"{name} must be at most {maximum}, got {result}.")
        return result

    def list(
        self, name: builtins.str, default: builtins.list[builtins.str] | None = None
    ) -> builtins.list[builtins.str]:
        """A comma-separated list; blanks are dropped so a trailing comma is harmless."""
        value = self._raw(name)
        if value is None:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(
        self, name: builtins.str, default: builtins.str, choices: tuple[builtins.str, ...]
    ) -> builtins.str:
        value = self.str(name, default)
        if value not in choices:
            raise ImproperlyConfigured(
                f"{name} must be one of {', '.join(choices)}, got {value!r}."
            )
        return value
