"""Hand-written SQL for the few reads on the hottest paths (a search's result rows, the index
version stamp), where Django's query compilation costs ten times the query itself: measured on
a page of 20 results, three ORM value queries took 2.7 ms, the same three statements 0.2 ms.

Statements stay portable (SQLite and PostgreSQL) by using only plain SELECTs with ``%s``
placeholders; the small differences in what the two drivers return are smoothed here. Anything
that is not on such a path uses the ORM.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import NotSupportedError, connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Model

# Beyond this many values a statement is not worth preparing (and PostgreSQL's protocol takes
# at most 65,535 parameters per statement).
PREPARED_PARAMETERS_AT_MOST = 1000


def fetch_rows(sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
    return fetch_row_sets([(sql, parameters)])[0]


def fetch_row_sets(
    statements: Sequence[tuple[str, Sequence[Any]]],
) -> list[list[tuple[Any, ...]]]:
    """The rows of each of several statements that do not depend on one another. On
    PostgreSQL they travel together, in one round trip (psycopg's pipeline mode), instead of
    one each: for a profile's four statements, 1.0-1.2 ms became 0.55-0.65 ms."""
    if not _prepares_statements() or any(
        len(parameters) > PREPARED_PARAMETERS_AT_MOST for _, parameters in statements
    ):
        found = []
        for sql, parameters in statements:
            with connection.cursor() as cursor:
                cursor.execute(sql, list(parameters))
                found.append(cursor.fetchall())
        return found
    try:
        return _prepared_row_sets(statements)
    except NotSupportedError as error:
        # "cached plan must not change result type" (0A000): a migration run elsewhere changed
        # a column one of this connection's prepared statements returns, and psycopg would run
        # the stale statement again on every call. Forget them all and run the statements
        # again. Inside a transaction the failed statement has aborted it: the error is the
        # caller's, and the rollback that follows makes psycopg forget them.
        if getattr(error.__cause__, "sqlstate", None) != "0A000" or connection.in_atomic_block:
            raise
        with connection.wrap_database_errors:
            connection.connection.execute("DEALLOCATE ALL")  # psycopg clears its cache too
        return _prepared_row_sets(statements)


def _prepares_statements() -> bool:
    """Whether ``fetch_rows`` lets PostgreSQL keep its statements' plans (settings.py:
    DATABASE_PREPARED_STATEMENTS)."""
    return (
        connection.vendor == "postgresql"
        and connection.settings_dict["OPTIONS"].get("prepare_threshold") is not None
    )


def _prepared_row_sets(
    statements: Sequence[tuple[str, Sequence[Any]]],
) -> list[list[tuple[Any, ...]]]:
    cursors = [_prepared_statement_cursor() for _ in statements]
    try:
        if len(statements) == 1:
            [cursor], [(sql, parameters)] = cursors, statements
            cursor.execute(sql, list(parameters))
            return [cursor.fetchall()]
        # Sent at once; the pipeline's end waits for every answer (and raises the first
        # error). So an execute_wrapper (and the debug log's timing) sees each statement sent,
        # not its wait or its error, which come at the pipeline's end.
        with connection.wrap_database_errors, connection.connection.pipeline():
            for cursor, (sql, parameters) in zip(cursors, statements, strict=True):
                cursor.execute(sql, list(parameters))
        with connection.wrap_database_errors:
            return [cursor.fetchall() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


def _prepared_statement_cursor() -> CursorWrapper:
    """A cursor that sends the parameters apart from the SQL, so that PostgreSQL prepares a
    statement the connection has run five times and stops parsing and planning it on every
    request: planning is most of a short read's cost there (a profile's licences: 0.38 ms
    planning, 0.09 ms running). Django's own cursors bind parameters into the SQL text (so
    they are never prepared), and the ORM keeps them.

    What BaseDatabaseWrapper.cursor() does, with psycopg's server-side-binding cursor class:
    the health check, the connection, the thread check, the time zone and Django's wrapper
    (query logging, execute_wrapper, error translation). Every whole number is sent as int8:
    psycopg would otherwise pick int2, int4 or int8 by each value's size, and a statement
    whose ids fall on both sides of 32,767 would be a different statement to prepare each
    time (comparing int8 with an int4 or int8 column still uses its index)."""
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format
    from psycopg.types.numeric import Int8Dumper

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        # Any: django-stubs types neither this class nor make_cursor's argument (a DB-API cursor).
        cursor: Any = ServerBindingCursor(connection.connection)  # type: ignore[call-arg]
    cursor.adapters.register_dumper(int, Int8Dumper)
    if connection.timezone != cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone:
        register_tzloader(connection.timezone, cursor)
    return (
        connection.make_debug_cursor(cursor)
        if connection.queries_logged
        else connection.make_cursor(cursor)
    )


def model_columns(model: type[Model], alias: str) -> str:
    """A model's columns by name, in ``instances_from_rows``' order, for a SELECT from ``alias``."""
    quote = connection.ops.quote_name
    # str(): django-stubs allow a field without a column; a concrete field has one.
    return ", ".join(f"{alias}.{quote(str(field.column))}" for field in model._meta.concrete_fields)


M = TypeVar("M", bound=Model)


def instances_from_rows(
    model: type[M], rows: Sequence[tuple[Any, ...]]
) -> list[tuple[M, tuple[Any, ...]]]:
    """Each row (selecting ``model_columns(model, …)`` first, then any other columns) as an
    instance of ``model`` with its values converted as the ORM converts them, and the row's
    other values: what ``Manager.raw`` gives, for rows read through ``fetch_rows`` or
    ``fetch_row_sets`` (so the statement is prepared on PostgreSQL, which a raw query set's
    never is)."""
    fields = model._meta.concrete_fields
    names = [field.attname for field in fields]
    converters = _converters(model, connection.vendor)
    found = []
    for row in rows:
        values = list(row[: len(fields)])
        for position, expression, field_converters in converters:
            for converter in field_converters:
                values[position] = converter(values[position], expression, connection)
        found.append((model.from_db(connection.alias, names, values), row[len(fields) :]))
    return found


@functools.cache
def _converters(model: type[Model], vendor: str) -> list[tuple[int, Any, list[Any]]]:
    """Per column needing any: the database backend's converters, then the field's own
    (``from_db_value``), as the ORM's compiler applies them (``SQLCompiler.get_converters``)."""
    converters = []
    for position, field in enumerate(model._meta.concrete_fields):
        expression = field.get_col(model._meta.db_table)
        chain = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        if chain:
            converters.append((position, expression, chain))
    return converters


def placeholders(count: int) -> str:
    """``%s, %s, …`` for an IN list of ``count`` values (at least one, so the SQL stays valid)."""
    return ", ".join(["%s"] * max(count, 1))


def as_uuid(value: Any) -> uuid.UUID:
    """A UUID column: PostgreSQL returns ``uuid.UUID``, SQLite 32 hex digits."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def as_utc(value: Any) -> dt.datetime | None:
    """A datetime column: PostgreSQL returns aware datetimes, SQLite naive ones in UTC."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite without the declared-type converter
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def as_date(value: Any) -> dt.date | None:
    """A date column: SQLite without the declared-type converter returns ISO text."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
