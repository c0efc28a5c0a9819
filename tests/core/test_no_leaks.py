"""Health data stays in its encrypted column: never in logs, e-mails, the audit log, error
reports, admin pages or any other table.

One unique value is planted in a note and carried through everything a note goes through —
created, read by its owner, changed, opened and listed by staff, deleted, and caught up in a
server error — with every logger at DEBUG (SQL statements and their parameters included) and the
error e-mail to ADMINS switched on. Then every place it could have escaped to is searched.
"""

from __future__ import annotations

import io
import logging
import secrets
import sys
from collections.abc import Iterator

import pytest
from auditlog.models import LogEntry  # type: ignore[import-untyped, unused-ignore]
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.log import AdminEmailHandler
from django.views.debug import ExceptionReporter

from rapport.core.audit import HealthDataExceptionReporterFilter
from tests.factories import make_user
from tests.healthdata_app import views
from tests.healthdata_app.models import PrivateNote
from tests.healthdata_app.services import (
    private_note_create,
    private_note_delete,
    private_note_update,
)

pytestmark = pytest.mark.django_db

PLANTED = f"PLANTED-ZX81-{secrets.token_hex(6)}"
STARS = HealthDataExceptionReporterFilter.cleansed_substitute


@pytest.fixture
def every_log_line() -> Iterator[io.StringIO]:
    """Everything any logger emits at any level, formatted with tracebacks, SQL included.

    pytest's caplog listens on the root logger only, and Django's loggers do not propagate
    there (see LOGGING), so this attaches its own handler to every logger that stops
    propagation as well.
    """
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    loggers = [root] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    attached = [logger for logger in loggers if logger is root or not logger.propagate]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    for logger in attached:
        logger.addHandler(handler)
    # Django logs each SQL statement with its parameters at DEBUG, but only from a debug cursor.
    connection.force_debug_cursor = True
    try:
        yield stream
    finally:
        connection.force_debug_cursor = False
        for logger in attached:
            logger.removeHandler(handler)
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled


@pytest.fixture
def error_mail_to_admins() -> Iterator[None]:
    """The error e-mail a production deployment sends to ADMINS, HTML report included."""
    handler = AdminEmailHandler(include_html=True)
    handler.setLevel(logging.ERROR)
    request_logger = logging.getLogger("django.request")
    request_logger.addHandler(handler)
    try:
        with override_settings(ADMINS=[("Operations", "ops@example.org")]):
            yield
    finally:
        request_logger.removeHandler(handler)


def _every_text_in_the_database() -> str:
    """Every row of every table, as text (the test database is small)."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - names from introspection
            chunks.append(repr(cursor.fetchall()))
    return "\n".join(chunks)


@override_settings(ROOT_URLCONF="tests.healthdata_app.urls")
def test_a_planted_value_appears_nowhere_but_its_owners_page(every_log_line, error_mail_to_admins):
    owner = make_user(email="owner@example.org")
    staff = make_user(role="staff", mfa=True, is_superuser=True, email="root@example.org")
    owner_client = Client(raise_request_exception=False)
    owner_client.force_login(owner)
    staff_client = Client()
    staff_client.force_login(staff)
    pages: dict[str, bytes] = {}

    # Written and rewritten through services.
    note = private_note_create(owner=owner, body=f"{PLANTED} first", title="Monday")
    private_note_update(note=note, body=f"{PLANTED} second")
    doomed = private_note_create(owner=owner, body=f"{PLANTED} doomed")

    # Read by its owner (the one place it may appear), and audited.
    own_page = owner_client.get(reverse("test_note_detail", args=[note.pk]))
    assert own_page.content.decode() == f"{PLANTED} second"

    # Listed, opened, edited and deleted by staff in the admin.
    pages["changelist"] = staff_client.get(
        reverse("admin:healthdata_app_privatenote_changelist")
    ).content
    change_url = reverse("admin:healthdata_app_privatenote_change", args=[note.pk])
    pages["change"] = staff_client.get(change_url).content
    now = timezone.now()
    saved = staff_client.post(
        change_url,
        {
            "owner": owner.pk,
            "title": "Monday (renamed)",
            "created_at_0": now.strftime("%Y-%m-%d"),
            "created_at_1": now.strftime("%H:%M:%S"),
        },
    )
    assert saved.status_code == 302
    delete_url = reverse("admin:healthdata_app_privatenote_delete", args=[doomed.pk])
    pages["delete confirmation"] = staff_client.get(delete_url).content
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 302

    # A server error while the text is in a local variable and in the POST data.
    broken = owner_client.post(reverse("test_note_broken", args=[note.pk]), {"body": PLANTED})
    assert broken.status_code == 500
    pages["error page"] = broken.content

    note_pk = str(note.pk)
    private_note_delete(note=note)

    # The checks below must have had something to look at.
    log_text = every_log_line.getvalue()
    assert "INSERT INTO" in log_text  # SQL with its parameters was logged
    assert "Internal Server Error" in log_text
    assert len(mail.outbox) == 1
    assert sorted(LogEntry.objects.filter(object_pk=note_pk).values_list("action", flat=True)) == [
        LogEntry.Action.CREATE,
        LogEntry.Action.UPDATE,
        LogEntry.Action.UPDATE,  # the title, renamed in the admin
        LogEntry.Action.DELETE,
        LogEntry.Action.ACCESS,  # the owner's page
        LogEntry.Action.ACCESS,  # the admin's change page, shown
        LogEntry.Action.ACCESS,  # and posted
        LogEntry.Action.ACCESS,  # the page that failed
    ]

    assert PLANTED not in log_text
    for message in mail.outbox:
        assert PLANTED not in message.subject
        assert PLANTED not in message.body
        assert all(PLANTED not in str(content) for content, _ in message.alternatives)  # type: ignore[attr-defined]
    for name, content in pages.items():
        assert PLANTED.encode() not in content, name
    for entry in LogEntry.objects.all():
        assert PLANTED not in f"{entry.changes} {entry.changes_text} {entry.object_repr}"
        assert PLANTED not in f"{entry.additional_data} {entry.serialized_data}"
    assert PLANTED not in _every_text_in_the_database()


def test_the_column_holds_only_tokens_while_the_note_exists():
    note = private_note_create(owner=make_user(), body=PLANTED)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT body FROM {PrivateNote._meta.db_table}")  # noqa: S608
        stored = [row[0] for row in cursor.fetchall()]
    assert len(stored) == 1
    assert PLANTED not in stored[0]
    assert PrivateNote.objects.get(pk=note.pk).body == PLANTED


def _report_of_the_broken_view(rf, owner) -> ExceptionReporter:
    note = private_note_create(owner=owner, body=PLANTED)
    request = rf.post("/broken/", {"body": PLANTED, "page": "2"})
    request.user = owner
    try:
        views.note_broken.__wrapped__(request, note.pk)  # type: ignore[attr-defined]
    except views.NoteRenderingFailed:
        return ExceptionReporter(request, *sys.exc_info())
    raise AssertionError("the view did not fail")


def test_error_reports_leave_out_local_variables_form_values_and_the_keys(rf):
    reporter = _report_of_the_broken_view(rf, make_user())

    text = reporter.get_traceback_text()
    html = reporter.get_traceback_html()

    assert isinstance(reporter.filter, HealthDataExceptionReporterFilter)
    assert "NoteRenderingFailed" in text
    for report in (text, html):
        assert PLANTED not in report
        assert all(key not in report for key in settings.FIELD_ENCRYPTION_KEYS)
    assert list(reporter.filter.get_post_parameters(reporter.request).items()) == [
        ("body", STARS),
        ("page", STARS),
    ]
    frames = reporter.get_traceback_frames()
    view_frame = next(frame for frame in frames if frame["function"] == "note_broken")
    assert dict(view_frame["vars"]) == {
        "request": STARS,
        "note_id": STARS,
        "note": STARS,
        "body": STARS,
        "draft": STARS,
    }


def test_with_debug_on_only_health_named_variables_and_fields_are_hidden(rf):
    reporter = _report_of_the_broken_view(rf, make_user())

    with override_settings(DEBUG=True):
        post = dict(reporter.filter.get_post_parameters(reporter.request).items())
        frames = reporter.get_traceback_frames()

    assert post == {"body": STARS, "page": "2"}
    view_frame = next(frame for frame in frames if frame["function"] == "note_broken")
    hidden = {name for name, value in view_frame["vars"] if value == STARS}
    # A name-based rule cannot know that `draft` holds health data too: that is why production
    # (DEBUG off) hides every variable.
    assert hidden == {"note_id", "note", "body"}
