"""The audit log of health data: who read or changed which record, when, and from where.

Built on django-auditlog. Its signal receivers record every create, update and delete of a
registered model (with the actor and address from ``AuditlogMiddleware``); reads are recorded
explicitly with ``audit_read``/``audit_reads``, because only the view knows that it showed a
record to a person. The log is append-only: the database refuses DELETE, and refuses any UPDATE
except removing the actor and address (migration ``core.0003_auditlog_append_only``), which is
what account deletion and the retention purge need.

Health data itself never enters the log: encrypted fields are registered masked (the entry
records *that* a note's body changed, never what it said), entries name an object by its model
and id rather than by ``str()``, and error reports drop local variables and form values.

Apps register each health model once, in ``AppConfig.ready()``::

    register_health_model(CheckIn, owner_field="engagement__client")
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any

from auditlog.cid import get_cid  # type: ignore[import-untyped, unused-ignore]
from auditlog.middleware import (  # type: ignore[import-untyped, unused-ignore]
    AuditlogMiddleware as _AuditlogMiddleware,
)
from auditlog.models import LogEntry  # type: ignore[import-untyped, unused-ignore]
from auditlog.registry import auditlog  # type: ignore[import-untyped, unused-ignore]
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from django.views.debug import SafeExceptionReporterFilter

from rapport.core.fields import encrypted_field_names

# What an audit entry shows instead of an encrypted value, before and after a change.
HEALTH_DATA_MASK = "[health data: not recorded]"

# Health models and the lookup from each to the person whose data it is (None: no single owner).
_health_models: dict[type[models.Model], str | tuple[str, ...] | None] = {}


def mask_health_value(value: str) -> str:
    """auditlog's ``mask_callable`` for encrypted fields: nothing of the value survives.

    (auditlog's default mask keeps the second half of the text.)
    """
    return HEALTH_DATA_MASK


def register_health_model(
    model: type[models.Model],
    *,
    owner_field: str | tuple[str, ...] | None = "owner",
    masked_fields: tuple[str, ...] = (),
) -> None:
    """Audit every change to ``model`` with its encrypted fields masked, and let the owner see
    who read or changed their records (``audit_entries_about_user``).

    ``owner_field`` is a lookup from the model to the user who owns the data (``"owner"``,
    ``"engagement__client"``), several when a record reaches its owner one way or another
    (any of them names the owner), or None when no single person owns it. ``masked_fields`` names
    further plain-text fields that identify the person (a name, an e-mail address): the log is
    append-only and outlives account deletion, so it may say that they changed, never what they
    held. Call from the app's ``AppConfig.ready()``. Registering again replaces the earlier
    registration.
    """
    for name in masked_fields:
        try:
            model._meta.get_field(name)
        except FieldDoesNotExist as error:
            raise ImproperlyConfigured(
                f"register_health_model({model._meta.label}): {name!r} is not a field."
            ) from error
    lookups = (owner_field,) if isinstance(owner_field, str) else owner_field or ()
    for lookup in lookups:
        first = lookup.split("__", 1)[0]
        try:
            model._meta.get_field(first)
        except FieldDoesNotExist as error:
            raise ImproperlyConfigured(
                f"register_health_model({model._meta.label}): owner_field {lookup!r} does "
                f"not start with a field of the model."
            ) from error
    auditlog.unregister(model)
    auditlog.register(
        model,
        mask_fields=[*encrypted_field_names(model), *masked_fields],
        mask_callable=f"{__name__}.mask_health_value",
    )
    _health_models[model] = owner_field


def health_models() -> dict[type[models.Model], str | tuple[str, ...] | None]:
    """Registered health models and their owner lookups."""
    return dict(_health_models)


def _object_label(instance: models.Model) -> str:
    """How an entry names a health record: model and id, never ``str(instance)``, which a
    model may one day write from the very text we must keep out of the log."""
    return f"{instance._meta.verbose_name} {instance.pk}"


@receiver(pre_save, sender=LogEntry, dispatch_uid="rapport.core.audit.name_health_records_safely")
def _name_health_records_safely(sender: Any, instance: Any, **kwargs: Any) -> None:
    # auditlog fills object_repr with str(instance) and offers no hook to change that; this is
    # the last moment to replace it for health records (entries are never updated later).
    if instance.pk is not None or instance.content_type_id is None:
        return
    model = ContentType.objects.get_for_id(instance.content_type_id).model_class()
    if model in _health_models:
        instance.object_repr = f"{model._meta.verbose_name} {instance.object_pk}"


# --- where a request came from -------------------------------------------------------------


def request_client_address(request: HttpRequest) -> str | None:
    """The client's IP address: REMOTE_ADDR, unless settings.TRUSTED_PROXY_COUNT says how many
    proxies we run in front of the site, in which case it is the X-Forwarded-For entry that the
    outermost of them added. Entries further left are whatever the client chose to send."""
    address = request.META.get("REMOTE_ADDR")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address or ""))
    except ValueError:
        return None


class AuditlogMiddleware(_AuditlogMiddleware):  # type: ignore[misc, unused-ignore]
    """auditlog's middleware, taking the client address by the site's rule.

    The original believes any X-Forwarded-For header, so anyone could write an address of their
    choosing into the audit log; and it records X-Forwarded-Port, which is equally the client's
    to invent.
    """

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        if getattr(settings, "AUDITLOG_DISABLE_REMOTE_ADDR", False):
            return None
        return request_client_address(request)

    @staticmethod
    def _get_remote_port(request: HttpRequest) -> int | None:
        return None


# --- recording reads -----------------------------------------------------------------------


def _actor(request: HttpRequest) -> AbstractBaseUser | None:
    user = getattr(request, "user", None)
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return None
    return user  # type: ignore[no-any-return, unused-ignore]


def _access_entry(
    *, instance: models.Model, actor: AbstractBaseUser | None, address: str | None, reason: str
) -> Any:
    if instance._state.adding or instance.pk is None:
        # (A UUID key is filled in before saving, so the key alone does not tell.)
        raise ValueError("Only a saved record can be recorded as read; this one is not saved.")
    return LogEntry(
        content_type=ContentType.objects.get_for_model(instance),
        object_pk=str(instance.pk),
        object_id=instance.pk if isinstance(instance.pk, int) else None,
        object_repr=_object_label(instance),
        action=LogEntry.Action.ACCESS,
        actor=actor,
        actor_email=getattr(actor, "email", None),
        remote_addr=address,
        timestamp=timezone.now(),
        additional_data={"reason": reason} if reason else None,
        cid=get_cid(),
    )


def audit_read(*, request: HttpRequest, instance: models.Model, reason: str = "") -> None:
    """Record that the person behind ``request`` was shown ``instance``.

    Call it before the response is built, outside any ``except`` that could swallow a failure:
    if the entry cannot be written the read must fail too. ``reason`` is a short, fixed phrase
    for reviewers ("shared check-in", "admin"); never put health data in it.
    """
    audit_reads(request=request, instances=[instance], reason=reason)


def audit_reads(
    *, request: HttpRequest, instances: Iterable[models.Model], reason: str = ""
) -> None:
    """Record one read per instance (a list page), in one INSERT."""
    actor = _actor(request)
    address = request_client_address(request)
    entries = [
        _access_entry(instance=instance, actor=actor, address=address, reason=reason)
        for instance in instances
    ]
    if entries:
        _insert(entries)


def _insert(entries: list[Any]) -> None:
    """Write access entries with one prepared INSERT run for every row.

    Like bulk_create it sends no pre_save, so nothing (auditlog's middleware included) can
    alter the actor and address set here; unlike it, the statement is compiled once instead of
    once per value, which was a third of a 200-row list page's time. Values are prepared by
    each field exactly as the ORM prepares them."""
    fields = [field for field in LogEntry._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    statement = f"INSERT INTO {quote(LogEntry._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 - names from the model
    # The entries of one call share most values (actor, address, time, reason, content type):
    # each distinct value is prepared once.
    prepared: dict[tuple[int, Any], Any] = {}

    def prepare(index: int, field: Any, value: Any) -> Any:
        try:
            key = (index, value if not isinstance(value, dict) else repr(value))
            hash(key)
        except TypeError:
            return field.get_db_prep_save(value, connection)
        if key not in prepared:
            prepared[key] = field.get_db_prep_save(value, connection)
        return prepared[key]

    rows = [
        [prepare(index, field, getattr(entry, field.attname)) for index, field in enumerate(fields)]
        for entry in entries
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)


# --- reviewing -----------------------------------------------------------------------------


def audit_entries_about_user(*, user: AbstractBaseUser) -> QuerySet[Any]:
    """Reads and changes of the health records ``user`` owns, newest first ("who viewed my
    data"). Records that no longer exist are not matched (their owner is no longer known)."""
    condition: Q | None = None
    for model, owner_field in _health_models.items():
        if owner_field is None:
            continue
        lookups = (owner_field,) if isinstance(owner_field, str) else owner_field
        owns = Q()
        for lookup in lookups:
            owns |= Q(**{lookup: user})
        owned = model._base_manager.filter(owns)
        content_type = ContentType.objects.get_for_model(model)
        if isinstance(model._meta.pk, models.IntegerField):
            part = Q(content_type=content_type, object_id__in=owned.values("pk"))
        else:
            # object_pk is text; a UUID is stored as text differently by each database, so
            # the comparison happens on Python's spelling, the one auditlog wrote.
            keys = [str(pk) for pk in owned.values_list("pk", flat=True)]
            part = Q(content_type=content_type, object_pk__in=keys)
        condition = part if condition is None else condition | part
    if condition is None:
        return LogEntry.objects.none()  # type: ignore[no-any-return, unused-ignore]
    return (  # type: ignore[no-any-return, unused-ignore]
        LogEntry.objects.filter(
            condition, action__in=(LogEntry.Action.ACCESS, LogEntry.Action.UPDATE)
        )
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-pk")
    )


def audit_entries_by_actor(*, actor: AbstractBaseUser) -> QuerySet[Any]:
    """Everything ``actor`` read or changed, newest first (for staff review of one account)."""
    return (  # type: ignore[no-any-return, unused-ignore]
        LogEntry.objects.filter(actor=actor)
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-pk")
    )


def audit_entries_anonymise_actor(*, actor: AbstractBaseUser) -> int:
    """Remove who and from where from every entry ``actor`` made; returns how many.

    The entries themselves stay (what was read, when). This is the one change the database
    allows on the log. Deleting a user already empties ``actor`` (``on_delete=SET_NULL``) but
    keeps the copy of their e-mail address and their IP addresses; call this first when those
    must go too.
    """
    with transaction.atomic():
        return LogEntry.objects.filter(actor=actor).update(  # type: ignore[no-any-return, unused-ignore]
            actor=None, actor_email=None, remote_addr=None, remote_port=None
        )


# --- error reports -------------------------------------------------------------------------


class HealthDataExceptionReporterFilter(SafeExceptionReporterFilter):
    """Keeps health data out of error reports (the e-mails to ADMINS, the debug page).

    In production every local variable and every POST value is replaced: a name-based rule
    cannot know that ``text = note.body`` or ``kwargs`` hold a therapy note. With DEBUG on (a
    developer's machine, development data) variables and fields whose names look like health
    data are replaced and the rest is shown, so tracebacks stay useful.
    """

    health_names = re.compile(
        r"body|note|message|answer|response|text|content|reason|concern|story|fit|comment|"
        r"journal|symptom|diagnos|feeling|mood|check_?in|intake|health|history|goal|crisis",
        flags=re.IGNORECASE,
    )

    def is_active(self, request: HttpRequest | None) -> bool:
        # Django's filter switches itself off under DEBUG; health data needs it on regardless.
        return True

    def _hides(self, name: str) -> bool:
        return not settings.DEBUG or bool(self.health_names.search(name))

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        parameters = super().get_post_parameters(request)
        if request is None:
            return parameters
        cleansed = parameters.copy()
        for name in cleansed:
            if self._hides(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_cleansed_multivaluedict(self, request: HttpRequest | None, multivaluedict: Any) -> Any:
        # A QueryDict held in a local variable (``data = request.POST``) under DEBUG.
        if request is not None:
            multivaluedict = super().get_cleansed_multivaluedict(request, multivaluedict)
        cleansed = multivaluedict.copy()
        for name in cleansed:
            if self._hides(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        return [
            (name, self.cleansed_substitute if self._hides(name) else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


# --- append-only, in the database ------------------------------------------------------------

AUDIT_LOG_TABLE = "auditlog_logentry"
# Columns that may only ever be set to NULL once written: who, and from which address.
AUDIT_LOG_ANONYMISABLE_COLUMNS = ("actor_id", "actor_email", "remote_addr", "remote_port")
# Columns that never change once written. tests/core/test_audit.py fails if auditlog ever adds
# a column that is in neither list.
AUDIT_LOG_FIXED_COLUMNS = (
    "id",
    "content_type_id",
    "object_pk",
    "object_id",
    "object_repr",
    "serialized_data",
    "action",
    "changes_text",
    "changes",
    "cid",
    "timestamp",
    "additional_data",
)
AUDIT_LOG_DELETE_REFUSAL = "the audit log is append-only: entries cannot be deleted"
AUDIT_LOG_UPDATE_REFUSAL = (
    "the audit log is append-only: an entry can only have its actor and address removed"
)
AUDIT_LOG_SQLITE_TRIGGERS = ("rapport_auditlog_no_delete", "rapport_auditlog_only_anonymise")


def register_audit_log_triggers() -> None:
    """Declare the SQLite triggers that refuse deleting or rewriting audit entries, except
    emptying who and from where (account deletion and the retention purge need that).

    An upgrade of django-auditlog may rebuild its table; the trigger registry puts these back
    after every migrate (rapport.core.triggers). PostgreSQL's equivalent is a trigger created by
    migration core.0003_auditlog_append_only.
    """
    from rapport.core.triggers import register_sqlite_trigger

    changed = [f"NEW.{column} IS NOT OLD.{column}" for column in AUDIT_LOG_FIXED_COLUMNS]
    changed += [
        f"(NEW.{column} IS NOT NULL AND NEW.{column} IS NOT OLD.{column})"
        for column in AUDIT_LOG_ANONYMISABLE_COLUMNS
    ]
    no_delete, only_anonymise = AUDIT_LOG_SQLITE_TRIGGERS
    register_sqlite_trigger(
        name=no_delete,
        table=AUDIT_LOG_TABLE,
        create_sql=f"""
        CREATE TRIGGER {no_delete} BEFORE DELETE ON {AUDIT_LOG_TABLE}
        BEGIN
            SELECT RAISE(ABORT, '{AUDIT_LOG_DELETE_REFUSAL}');
        END
        """,
    )
    condition = "\n            OR ".join(changed)
    register_sqlite_trigger(
        name=only_anonymise,
        table=AUDIT_LOG_TABLE,
        create_sql=f"""
        CREATE TRIGGER {only_anonymise} BEFORE UPDATE ON {AUDIT_LOG_TABLE}
        WHEN {condition}
        BEGIN
            SELECT RAISE(ABORT, '{AUDIT_LOG_UPDATE_REFUSAL}');
        END
        """,
    )
