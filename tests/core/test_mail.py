"""The demo's e-mail: one .eml file per message under var/mail/, read back by the standard
library's parser (not by our own code), calendar file included."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage as ParsedMessage
from pathlib import Path

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from rapport.booking import outbox
from rapport.booking.models import Party
from rapport.core.mail import MessageFileBackend, message_file_name
from tests.booking.factories import make_maya_appointment
from tests.factories import make_therapist_with_account

BACKEND = "rapport.core.mail.MessageFileBackend"


def _read(path: Path) -> ParsedMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, ParsedMessage)
    return parsed


def test_the_settings_send_development_mail_under_var():
    from django.conf import settings

    assert settings.EMAIL_FILE_PATH == settings.VAR_DIR / "mail"


@pytest.mark.django_db
def test_a_booking_e_mail_becomes_one_eml_with_its_calendar_intact(reference_data, tmp_path):
    therapist = make_therapist_with_account(display_name="Ada Okafor", email="ada@example.org")
    appointment = make_maya_appointment(therapist)
    row = outbox.outbox_write(
        appointment=appointment,
        purpose=outbox.PURPOSE_BOOKED,
        recipient=Party.CLIENT,
        due_at=timezone.now() + dt.timedelta(hours=1),
    )
    assert row is not None
    message = outbox.build_message(row, now=timezone.now())
    sent_calendar = [
        part.get_payload(decode=True)
        for part in message.message().walk()
        if part.get_content_type() == "text/calendar"
    ]

    connection = mail.get_connection(BACKEND, file_path=tmp_path / "mail")
    assert connection.send_messages([message]) == 1

    [written] = (tmp_path / "mail").iterdir()
    assert written.suffix == ".eml"
    parsed = _read(written)
    assert parsed["To"] == "maya@example.org"
    # Django folds a long encoded subject onto the next line; unfolding leaves a space.
    subject = str(parsed["Subject"]).strip()
    assert subject.startswith("[Rapport] Your free consultation is booked")
    [calendar] = [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_filename() == "consultation.ics"
    text = calendar.get_content()
    assert text.startswith("BEGIN:VCALENDAR")
    assert "BEGIN:VEVENT" in text
    assert text.rstrip().endswith("END:VCALENDAR")
    # Byte for byte the calendar that was built for the message.
    assert [calendar.get_payload(decode=True)] == sent_calendar
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None
    assert "Ada Okafor" in body.get_content()


def test_each_message_gets_its_own_file_through_djangos_send_mail(tmp_path):
    with override_settings(EMAIL_BACKEND=BACKEND, EMAIL_FILE_PATH=tmp_path):
        sent = mail.send_mass_mail(
            [
                ("First", "One.", "from@example.org", ["a@example.org"]),
                ("Second", "Two.", "from@example.org", ["b@example.org"]),
            ]
        )
    assert sent == 2
    files = sorted(tmp_path.iterdir())
    assert [path.suffix for path in files] == [".eml", ".eml"]
    # Nothing half-written is left behind.
    assert not list(tmp_path.glob(".*"))
    subjects = sorted(str(_read(path)["Subject"]) for path in files)
    assert subjects == ["First", "Second"]


def test_file_names_sort_by_time_and_never_collide():
    early = dt.datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=dt.UTC)
    late = dt.datetime(2026, 3, 8, 7, 0, 0, 0, tzinfo=dt.UTC)
    first, second = message_file_name(early), message_file_name(late)
    assert first.startswith("20260308-065959-999999-")
    assert first.endswith(".eml")
    assert first < second
    assert message_file_name(late) != message_file_name(late)


def test_a_folder_that_cannot_be_written_fails_loudly_unless_told_otherwise(tmp_path):
    blocker = tmp_path / "mail"
    blocker.write_text("a file where the folder should be")
    message = mail.EmailMessage("Hello", "Body.", "from@example.org", ["to@example.org"])
    with pytest.raises(FileExistsError):
        MessageFileBackend(file_path=blocker).send_messages([message])
    assert MessageFileBackend(file_path=blocker, fail_silently=True).send_messages([message]) == 0


def test_nothing_to_send_creates_nothing(tmp_path):
    assert MessageFileBackend(file_path=tmp_path / "mail").send_messages([]) == 0
    assert not (tmp_path / "mail").exists()
