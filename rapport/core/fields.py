"""Model fields that keep health data encrypted in the database.

``EncryptedTextField`` behaves like a ``TextField`` in Python (the model attribute, forms and
validation see plain text) while the column only ever holds a Fernet token (see
``rapport.core.crypto``). Use it for anything a person tells us about their health: check-in
answers, notes, messages, fit-profile free text, what a client writes when booking.

Because every token is different even for the same text, the database cannot compare, search or
sort these values. Lookups other than ``isnull`` are therefore refused with ``FieldError``
instead of silently matching nothing; filter on other columns and compare in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core import checks, validators
from django.core.exceptions import FieldError
from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression
from django.db.models.functions import Cast
from django.db.models.lookups import Exact, IExact, Lookup

from rapport.core.crypto import (
    KeyTally,
    UndecryptableValue,
    decrypt,
    encrypt,
)


def _refusal(field: models.Field[Any, Any], lookup_name: str) -> FieldError:
    # Never mentions the value compared against: it is health data.
    return FieldError(
        f"{_label(field)} is encrypted (each stored value is a different random-looking token), "
        f"so the database cannot evaluate the {lookup_name!r} lookup on it; only 'isnull' is "
        "supported. Filter on other fields and compare the decrypted values in Python."
    )


def _label(field: models.Field[Any, Any]) -> str:
    model = getattr(field, "model", None)
    if model is None:
        return f"The encrypted field {field.name!r}"
    return f"{model._meta.label}.{field.name}"


class _NoneOnlyExact(Exact):
    """``field=None`` is Django's spelling of ``field__isnull=True``; any other value is refused.

    Django builds the exact lookup before turning ``=None`` into ``isnull``, so refusing the
    lookup name outright would also refuse that harmless spelling.
    """

    def __init__(self, lhs: Any, rhs: Any) -> None:
        if rhs is not None:
            raise _refusal(lhs.output_field, "exact")
        super().__init__(lhs, rhs)


class _NoneOnlyIExact(IExact):
    def __init__(self, lhs: Any, rhs: Any) -> None:
        if rhs is not None:
            raise _refusal(lhs.output_field, "iexact")
        super().__init__(lhs, rhs)


class EncryptedTextField(models.TextField):  # type: ignore[type-arg, unused-ignore]
    """Text encrypted at rest with the keys in ``settings.FIELD_ENCRYPTION_KEYS``.

    ``None`` is stored as NULL and ``""`` as ``""`` (an empty answer carries no health data and
    stays distinguishable from a missing one); everything else is stored as a token. Reading a
    value no configured key opens raises ``UndecryptableValue``. ``max_length``, if given, is
    checked on the plain text by model validation and forms (the column itself is unbounded,
    since tokens are longer than what they hold).
    """

    description = "Text (encrypted at rest)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        for option in ("primary_key", "unique", "db_index"):
            if getattr(self, option):
                errors.append(
                    checks.Error(
                        f"EncryptedTextField cannot use {option}=True: equal texts are stored "
                        "as different tokens, so the database can neither index nor compare "
                        "them.",
                        obj=self,
                        id="rapport.E101",
                    )
                )
        return errors

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None or value == "":
            return value
        try:
            return decrypt(value)
        except UndecryptableValue as error:
            raise UndecryptableValue(f"{_label(self)}: {error}") from error.__cause__

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        if lookup_name == "exact":
            return _NoneOnlyExact
        if lookup_name == "iexact":
            return _NoneOnlyIExact
        raise _refusal(self, lookup_name)

    def get_transform(self, lookup_name: str) -> None:
        # A transform (lower, unaccent, trigram …) would run on the token, never the text.
        raise _refusal(self, lookup_name)


# --- key rotation --------------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptedValueCounts:
    """What ``encrypted_values_count`` found in one model's encrypted columns."""

    current: int  # sealed under the newest key
    stale: int  # sealed under an older key that is still configured
    undecryptable: int  # no configured key opens them


def encrypted_field_names(model: type[models.Model]) -> list[str]:
    """The names of ``model``'s encrypted fields, in declaration order."""
    return [
        field.name for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)
    ]


def models_with_encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every installed model that stores encrypted values, with those fields' names."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = encrypted_field_names(model)
        if names:
            found.append((model, names))
    return found


def encrypted_values_rotate(
    *, model: type[models.Model], field_names: Sequence[str], batch_size: int
) -> int:
    """Re-encrypt every value in ``field_names`` of ``model`` under the newest key; returns how
    many values were re-encrypted.

    Walks the table in primary-key order, one batch per transaction. Each batch is read inside
    its transaction, locked (PostgreSQL; SQLite's write lock covers the whole database), so a
    concurrent edit is never overwritten with the text read a moment before. Safe to re-run and
    to interrupt: every value is readable under the configured keys at every moment.
    Side effects: values no key opens stop the run with ``UndecryptableValue``.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    manager = model._base_manager
    rotated = 0
    last_pk: Any = None
    while True:
        with transaction.atomic():
            batch_query = manager.select_for_update().only("pk", *field_names).order_by("pk")
            if last_pk is not None:
                batch_query = batch_query.filter(pk__gt=last_pk)
            # Reading decrypts (with any configured key); bulk_update encrypts with the newest.
            batch = list(batch_query[:batch_size])
            if not batch:
                return rotated
            manager.bulk_update(batch, field_names)
        rotated += sum(
            1 for row in batch for name in field_names if getattr(row, name) not in (None, "")
        )
        last_pk = batch[-1].pk


def encrypted_values_count(
    *, model: type[models.Model], field_names: Sequence[str], batch_size: int
) -> EncryptedValueCounts:
    """Count the stored values of ``model`` by the key that sealed them (checks each token's
    signature; decrypts nothing)."""
    raw_names = {name: f"_raw_{name}" for name in field_names}
    rows = (
        model._base_manager.order_by()
        .annotate(
            **{raw: Cast(name, output_field=models.TextField()) for name, raw in raw_names.items()}
        )
        .values_list(*raw_names.values())
        .iterator(chunk_size=batch_size)
    )
    tally = KeyTally()
    for row in rows:
        for token in row:
            if token not in (None, ""):
                tally.add(token)
    return EncryptedValueCounts(
        current=tally.current, stale=tally.stale, undecryptable=tally.undecryptable
    )
