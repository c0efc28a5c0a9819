"""The statements of one model update, written once as SQL instead of composed by the ORM.

An update runs after every early answer, and on PostgreSQL the ORM's work per statement
(compiling the query, signals, building instances) was most of its time. Each statement here
is built once per database and takes its values prepared by the model's own fields
(``get_db_prep_save``, so encryption and JSON are exactly what the ORM writes) and converted
back by the fields' own converters:

- ``fit_profile_answers``: the client's fit profile answers (decrypted), or None;
- ``newest_model_locked``: the newest version's id, creation time and sums, its row locked
  (on PostgreSQL with the next outcome's id drawn from its sequence);
- ``model_sums_save``: that row's sums and update time;
- ``effect_add``: one upsert adding an outcome to a therapist's count and residual sum, the
  addition done by the database under the row's lock, so concurrent answers both count;
- ``outcome_insert``: the encrypted outcome, and its audit entry with the content
  django-auditlog's own receiver gives a created health record (its diff with the encrypted
  values masked, the actor and address from the request's context, the record named by model
  and id), without the model's save signals: ``tests/matching/test_learning.py`` compares
  the entry with the one auditlog's receiver writes for the same record, and fails if another
  receiver ever listens to ``MatchOutcome``'s saves.

The writes whose results nobody reads go in a ``Batch``: one round trip on PostgreSQL. An
update there is six: the fit profile, the search index's stamp, BEGIN, the lock, the writes,
COMMIT (ten before).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from auditlog.cid import get_cid  # type: ignore[import-untyped, unused-ignore]
from auditlog.context import auditlog_disabled  # type: ignore[import-untyped, unused-ignore]
from auditlog.diff import model_instance_diff  # type: ignore[import-untyped, unused-ignore]
from auditlog.models import LogEntry  # type: ignore[import-untyped, unused-ignore]
from auditlog.registry import auditlog  # type: ignore[import-untyped, unused-ignore]
from auditlog.signals import post_log, pre_log  # type: ignore[import-untyped, unused-ignore]
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.models.signals import post_save, pre_save
from django.utils.encoding import smart_str

from rapport.matching.models import FitProfile, MatchModel, MatchOutcome, TherapistEffect

# Statements by (database vendor, name): built on first use, reused for every update.
_statements: dict[tuple[str, str], str] = {}
# The column expressions the converters take, by (model, field name).
_columns: dict[tuple[str, str], Any] = {}


def _quoted(name: str) -> str:
    return str(connection.ops.quote_name(name))


def _statement(name: str, build: Any) -> str:
    key = (connection.vendor, name)
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = build()
    return statement


class Batch:
    """Statements whose results nobody reads, sent together at the end: in one round trip on
    PostgreSQL (with values bound client-side, the driver's simple protocol takes several
    statements at once), one after the other on SQLite (in process: no round trip to save).
    Any failure raises as the statement alone would, inside the caller's transaction."""

    def __init__(self) -> None:
        self._statements: list[tuple[str, list[Any]]] = []
        self._after: list[Callable[[], object]] = []

    def add(self, statement: str, values: list[Any]) -> None:
        self._statements.append((statement, values))

    def after(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` once the statements are written (signals that follow a save)."""
        self._after.append(callback)

    def run(self) -> None:
        if not self._statements:
            return
        with connection.cursor() as cursor:
            if _one_round_trip():
                cursor.execute(
                    ";\n".join(statement for statement, _ in self._statements),
                    [value for _, values in self._statements for value in values],
                )
            else:
                for statement, values in self._statements:
                    cursor.execute(statement, values)
        self._statements.clear()
        for callback in self._after:
            callback()
        self._after.clear()


def _one_round_trip() -> bool:
    options = connection.settings_dict.get("OPTIONS") or {}
    return connection.vendor == "postgresql" and options.get("server_side_binding") is not True


def _insert_fields(model: type[models.Model], *, with_pk: bool = False) -> list[Any]:
    return [field for field in model._meta.concrete_fields if with_pk or not field.primary_key]


def _insert_statement(model: type[models.Model], *, returning: bool, with_pk: bool = False) -> str:
    fields = _insert_fields(model, with_pk=with_pk)
    columns = ", ".join(_quoted(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = _quoted(model._meta.db_table)
    statement = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 - names from the model
    if returning and connection.features.can_return_columns_from_insert:
        statement += f" RETURNING {_quoted(str(model._meta.pk.column))}"  # type: ignore[union-attr, unused-ignore]
    return statement


def _insert_values(instance: models.Model, *, with_pk: bool = False) -> list[Any]:
    """The values the ORM's insert would write (each field's ``pre_save`` and
    ``get_db_prep_save``)."""
    return [
        field.get_db_prep_save(field.pre_save(instance, True), connection)
        for field in _insert_fields(type(instance), with_pk=with_pk)
    ]


def _insert_returning_pk(instance: models.Model) -> None:
    """Insert ``instance`` as the ORM would and set its primary key."""
    model = type(instance)
    statement = _statement(
        f"insert {model._meta.label} returning", lambda: _insert_statement(model, returning=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, _insert_values(instance))
        if connection.features.can_return_columns_from_insert:
            instance.pk = cursor.fetchone()[0]
        else:
            instance.pk = cursor.lastrowid
    instance._state.adding = False
    instance._state.db = connection.alias


def _converted(model: type[models.Model], name: str, value: Any) -> Any:
    """A raw column value as the ORM hands it over: the backend's converters, then the
    field's (``from_db_value``); both asked of this thread's connection each time."""
    key = (model._meta.label, name)
    column = _columns.get(key)
    if column is None:
        column = _columns[key] = model._meta.get_field(name).get_col(model._meta.db_table)  # type: ignore[union-attr]
    for converter in [
        *connection.ops.get_db_converters(column),
        *column.get_db_converters(connection),
    ]:
        value = converter(value, column, connection)
    return value


def fit_profile_answers(owner_id: int) -> str | None:
    """The person's fit profile answers (the JSON text, decrypted), None without a profile."""

    def build() -> str:
        table = _quoted(FitProfile._meta.db_table)
        return f"SELECT {_quoted('answers')} FROM {table} WHERE {_quoted('owner_id')} = %s"  # noqa: S608 - names from the model

    with connection.cursor() as cursor:
        cursor.execute(_statement("fit profile answers", build), [owner_id])
        row = cursor.fetchone()
    return None if row is None else _converted(FitProfile, "answers", row[0])


def newest_model_locked() -> tuple[int, dt.datetime, dict[str, Any], int | None] | None:
    """(id, created_at, parameters, the next outcome's id or None) of the newest version, its
    row locked until the end of the transaction; None when there is no version yet. Only the
    columns the update needs. Where the writes go in one round trip (PostgreSQL) the outcome's
    id is drawn from its sequence here too, so its insert can join them (a drawn id an update
    does not use is a gap, as after any rolled-back insert)."""
    drawn = _one_round_trip()

    def build() -> str:
        table = _quoted(MatchModel._meta.db_table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        columns = f"{_quoted('id')}, {_quoted('created_at')}, {_quoted('parameters')}"
        if drawn:
            outcomes = MatchOutcome._meta.db_table
            columns += f", nextval(pg_get_serial_sequence('{outcomes}', 'id'))"
        return f"SELECT {columns} FROM {table} ORDER BY {_quoted('version')} DESC LIMIT 1{lock}"  # noqa: S608 - names from the model

    with connection.cursor() as cursor:
        cursor.execute(_statement(f"newest model locked {drawn}", build))
        row = cursor.fetchone()
    if row is None:
        return None
    return (
        int(row[0]),
        _converted(MatchModel, "created_at", row[1]),
        _converted(MatchModel, "parameters", row[2]),
        int(row[3]) if drawn else None,
    )


def model_sums_save(
    batch: Batch, *, model_id: int, parameters: dict[str, Any], updated_at: dt.datetime
) -> None:
    """Write a version's new sums and update time (its row already locked)."""

    def build() -> str:
        table = _quoted(MatchModel._meta.db_table)
        return (
            f"UPDATE {table} SET {_quoted('parameters')} = %s, {_quoted('updated_at')} = %s "  # noqa: S608 - names from the model
            f"WHERE {_quoted('id')} = %s"
        )

    values = [
        MatchModel._meta.get_field("parameters").get_db_prep_save(parameters, connection),
        MatchModel._meta.get_field("updated_at").get_db_prep_save(updated_at, connection),
        model_id,
    ]
    batch.add(_statement("model sums save", build), values)


def effect_add(batch: Batch, *, model_id: int, therapist_id: int, residual: float) -> None:
    """One more outcome in the therapist's row of this version (created at 1 when it has
    none): one statement, the increments done by the database (PostgreSQL, and SQLite from
    3.24, both take ``ON CONFLICT … DO UPDATE``)."""

    def build() -> str:
        table = _quoted(TherapistEffect._meta.db_table)
        model, therapist = _quoted("model_id"), _quoted("therapist_id")
        count, total = _quoted("count"), _quoted("residual_sum")
        return (
            f"INSERT INTO {table} ({model}, {therapist}, {count}, {total}) "  # noqa: S608 - names from the model
            f"VALUES (%s, %s, 1, %s) ON CONFLICT ({model}, {therapist}) DO UPDATE SET "
            f"{count} = {table}.{count} + 1, {total} = {table}.{total} + excluded.{total}"
        )

    batch.add(_statement("effect add", build), [model_id, therapist_id, float(residual)])


def outcome_insert(batch: Batch, outcome: MatchOutcome, *, pk: int | None = None) -> None:
    """Insert a new outcome (its fields encrypted by the model's fields) and its creation's
    audit entry: with its id drawn already (``pk``), both with ``batch``; else the outcome at
    once (to learn its id) and the entry with ``batch``. A second outcome for the same part
    or engagement raises ``IntegrityError``."""
    if pk is None:
        _insert_returning_pk(outcome)
    else:
        outcome.pk = pk
        statement = _statement(
            f"insert {MatchOutcome._meta.label} with id",
            lambda: _insert_statement(MatchOutcome, returning=False, with_pk=True),
        )
        batch.add(statement, _insert_values(outcome, with_pk=True))
        outcome._state.adding = False
        outcome._state.db = connection.alias
    _audit_created(batch, outcome)


def _audit_created(batch: Batch, instance: models.Model) -> None:
    """The entry django-auditlog's ``log_create`` receiver writes for a created record of a
    registered model (``auditlog.receivers._create_log_entry`` with ``log_create``'s
    defaults), written with the prepared insert. The entry's own ``pre_save`` receivers run,
    so the actor and address come from the request's context and the record is named by
    model and id (``rapport.core.audit``)."""
    sender = type(instance)
    if not auditlog.contains(sender) or auditlog_disabled.get():
        return
    action = LogEntry.Action.CREATE
    pre_log_results = pre_log.send(sender, instance=instance, action=action)
    if any(result is False for _receiver, result in pre_log_results):
        return
    use_json = getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False)
    changes = model_instance_diff(None, instance, use_json_for_changes=use_json)
    if not changes:
        return
    pk = LogEntry.objects._get_pk_value(instance)
    entry = LogEntry(
        action=action,
        changes=changes,
        content_type=ContentType.objects.get_for_model(instance),
        object_pk=pk,
        object_repr=smart_str(instance),
        serialized_data=LogEntry.objects._get_serialized_data_or_none(instance),
        object_id=pk if isinstance(pk, int) else None,
        cid=get_cid(),
    )
    additional = getattr(instance, "get_additional_data", None)
    if callable(additional):
        entry.additional_data = additional()
    pre_save.send(
        sender=LogEntry, instance=entry, raw=False, using=connection.alias, update_fields=None
    )
    insert = _statement("insert audit entry", lambda: _insert_statement(LogEntry, returning=False))
    batch.add(insert, _insert_values(entry))

    def after() -> None:
        post_save.send(
            sender=LogEntry,
            instance=entry,
            created=True,
            raw=False,
            using=connection.alias,
            update_fields=None,
        )
        post_log.send(
            sender,
            instance=instance,
            instance_old=None,
            action=action,
            error=None,
            pre_log_results=pre_log_results,
            changes=changes,
            log_entry=entry,
            log_created=True,
            use_json_for_changes=use_json,
        )

    batch.after(after)


def save_receivers(model: type[models.Model]) -> Sequence[str]:
    """The modules of the receivers listening to ``model``'s saves (for the test that the
    prepared insert skips nothing but auditlog's receiver)."""
    names = []
    for signal in (pre_save, post_save):
        for receiver in signal._live_receivers(model)[0]:
            target = getattr(receiver, "func", receiver)
            names.append(str(getattr(target, "__module__", "")))
    return names
