"""`rapport create_staff`: the first staff accounts, ready to sign in."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from rapport.accounts.management.commands.create_staff import (
    VIDEO_REVIEW_PERMISSION,
    VIDEO_REVIEW_QUEUE_PATH,
)
from rapport.accounts.middleware import AFTER_SECOND_FACTOR
from rapport.accounts.models import User
from rapport.videos.access import MODERATE_PERMISSION
from tests.accounts.signin_helpers import TOTP_ACTIVATE_URL, reauthenticate, totp_code
from tests.factories import TEST_PASSWORD
from tests.html_tree import page_tree

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db


def test_creates_a_confirmed_staff_reviewer_who_must_set_up_mfa(tmp_path):
    secret = tmp_path / "password"
    secret.write_text(TEST_PASSWORD + "\n")
    output = io.StringIO()
    call_command(
        "create_staff",
        "Reviewer@Example.org",
        "--permission=directory.review_licences",
        f"--password-file={secret}",
        stdout=output,
    )

    user = User.objects.get(email="reviewer@example.org")
    assert (user.role, user.is_staff, user.is_superuser) == ("staff", True, False)
    assert user.has_perm("directory.review_licences")
    assert output.getvalue().startswith("Created staff account reviewer@example.org.")
    client = Client()
    signed_in = client.post(
        "/accounts/login/", {"login": "reviewer@example.org", "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 302
    staff_page = client.get("/staff/verification/")
    assert staff_page.status_code == 302
    assert staff_page["Location"].startswith("/accounts/2fa/totp/activate/")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--permission=directory.fly"], "Unknown permission 'directory.fly'"),
        ([], "This password is too short"),
    ],
)
def test_refuses_bad_input_and_writes_nothing(tmp_path, arguments, message):
    secret = tmp_path / "password"
    secret.write_text(TEST_PASSWORD if arguments else "short")
    with pytest.raises(CommandError) as error:
        call_command("create_staff", "x@example.org", f"--password-file={secret}", *arguments)
    assert message in str(error.value)
    assert not User.objects.filter(email="x@example.org").exists()


def test_refuses_a_taken_address(tmp_path):
    User.objects.create_user("taken@example.org", TEST_PASSWORD)
    secret = tmp_path / "password"
    secret.write_text(TEST_PASSWORD)
    with pytest.raises(CommandError) as error:
        call_command("create_staff", "TAKEN@example.org", f"--password-file={secret}")
    assert str(error.value) == "An account with taken@example.org already exists."


# --- the password from the environment or a file ------------------------------------------------


def test_takes_the_password_from_a_named_environment_variable(monkeypatch):
    monkeypatch.setenv("STAFF_SECRET", f"  {TEST_PASSWORD}\n")
    call_command(
        "create_staff", "env@example.org", "--password-env=STAFF_SECRET", stdout=io.StringIO()
    )

    user = User.objects.get(email="env@example.org")
    # Trimmed like a file's contents, so `export STAFF_SECRET="$(cat file)"` works.
    assert user.check_password(TEST_PASSWORD)


@pytest.mark.parametrize("value", [None, "", "  \n"], ids=["unset", "empty", "blank"])
def test_refuses_an_unset_or_empty_environment_variable(monkeypatch, value):
    monkeypatch.delenv("STAFF_SECRET", raising=False)
    if value is not None:
        monkeypatch.setenv("STAFF_SECRET", value)
    with pytest.raises(CommandError) as error:
        call_command("create_staff", "env@example.org", "--password-env=STAFF_SECRET")
    assert str(error.value) == (
        "The environment variable STAFF_SECRET is not set or is empty; nothing was created."
    )
    assert not User.objects.filter(email="env@example.org").exists()


def test_refuses_a_missing_file(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(CommandError) as error:
        call_command("create_staff", "f@example.org", f"--password-file={missing}")
    assert str(error.value) == (
        f"Cannot read {missing}: No such file or directory; nothing was created."
    )
    assert not User.objects.filter(email="f@example.org").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty; nothing was created."),
        (b" \n\t\n", "is empty; nothing was created."),
        (b"\xff\xfe not text", "is not UTF-8 text; nothing was created."),
    ],
    ids=["empty", "whitespace", "binary"],
)
def test_refuses_an_empty_or_unreadable_file(tmp_path, content, message):
    secret = tmp_path / "password"
    secret.write_bytes(content)
    with pytest.raises(CommandError) as error:
        call_command("create_staff", "f@example.org", f"--password-file={secret}")
    assert str(error.value) == f"{secret} {message}"
    assert not User.objects.filter(email="f@example.org").exists()


def test_one_password_source_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setenv("STAFF_SECRET", TEST_PASSWORD)
    secret = tmp_path / "password"
    secret.write_text(TEST_PASSWORD)
    with pytest.raises(CommandError) as error:
        call_command(
            "create_staff",
            "f@example.org",
            "--password-env=STAFF_SECRET",
            f"--password-file={secret}",
        )
    assert "not allowed with argument" in str(error.value)
    assert not User.objects.filter(email="f@example.org").exists()


def test_there_is_no_way_to_give_the_password_itself_as_an_argument():
    with pytest.raises(CommandError):
        call_command("create_staff", "f@example.org", f"--password={TEST_PASSWORD}")
    assert not User.objects.filter(email="f@example.org").exists()


# --- the video reviewer -------------------------------------------------------------------------


def test_the_video_reviewer_flag_names_the_queues_permission():
    assert VIDEO_REVIEW_PERMISSION == MODERATE_PERMISSION


def test_the_printed_sign_in_link_leads_to_the_video_queue():
    assert reverse("videos:review_queue") == VIDEO_REVIEW_QUEUE_PATH


def test_grants_the_video_review_permission_when_asked(monkeypatch):
    monkeypatch.setenv("STAFF_SECRET", TEST_PASSWORD)
    output = io.StringIO()
    call_command(
        "create_staff",
        "videos@example.org",
        "--video-reviewer",
        "--permission=directory.review_licences",
        "--password-env=STAFF_SECRET",
        stdout=output,
    )
    assert "Sign in at /accounts/login/?next=/staff/videos/;" in output.getvalue()
    user = User.objects.get(email="videos@example.org")
    assert user.has_perm("videos.moderate_videos")
    assert user.has_perm("directory.review_licences")
    assert not user.is_superuser


def test_without_the_flag_no_video_permission(monkeypatch):
    monkeypatch.setenv("STAFF_SECRET", TEST_PASSWORD)
    call_command(
        "create_staff", "plain@example.org", "--password-env=STAFF_SECRET", stdout=io.StringIO()
    )
    assert not User.objects.get(email="plain@example.org").has_perm("videos.moderate_videos")


# --- from the sign-in to the queue ----------------------------------------------------------------


def _set_up_authenticator(client: Client) -> _MonkeyPatchedWSGIResponse:
    if client.get(TOTP_ACTIVATE_URL)["Location"].startswith("/accounts/reauthenticate/"):
        reauthenticate(client, TEST_PASSWORD)
    assert client.get(TOTP_ACTIVATE_URL).status_code == 200
    secret = client.session["mfa.totp.secret"]
    return client.post(TOTP_ACTIVATE_URL, {"code": totp_code(secret)})


def test_a_new_video_reviewer_lands_on_the_queue_after_the_second_factor(monkeypatch):
    monkeypatch.setenv("STAFF_SECRET", TEST_PASSWORD)
    call_command(
        "create_staff",
        "videos@example.org",
        "--video-reviewer",
        "--password-env=STAFF_SECRET",
        stdout=io.StringIO(),
    )
    client = Client()
    # The link the command printed: the sign-in, then the queue.
    signed_in = client.post(
        "/accounts/login/?next=/staff/videos/",
        {"login": "videos@example.org", "password": TEST_PASSWORD},
    )
    assert signed_in["Location"] == "/staff/videos/"
    assert client.get("/staff/videos/")["Location"] == TOTP_ACTIVATE_URL

    activated = _set_up_authenticator(client)

    assert activated.status_code == 302
    assert activated["Location"] == "/staff/videos/"
    queue = client.get("/staff/videos/")
    assert queue.status_code == 200
    tree = page_tree(queue.content.decode())
    assert [heading.text() for heading in tree.find_all("h1")] == ["Video review"]
    # The recovery codes are one link away, and the page it names lists them.
    [codes_link] = [link for link in tree.find_all("a") if link.text() == "recovery codes"]
    assert codes_link.attrs["href"] == "/accounts/2fa/recovery-codes/"
    user = User.objects.get(email="videos@example.org")
    codes_page = client.get("/accounts/2fa/recovery-codes/").content.decode()
    unused = RecoveryCodes(Authenticator.objects.get(user=user, type="recovery_codes"))
    assert all(code in codes_page for code in unused.get_unused_codes())
    # Used once: a later set-up does not send them back here.
    assert AFTER_SECOND_FACTOR not in client.session


def test_without_a_page_to_go_back_to_the_set_up_ends_on_the_recovery_codes(monkeypatch):
    monkeypatch.setenv("STAFF_SECRET", TEST_PASSWORD)
    call_command(
        "create_staff", "plain@example.org", "--password-env=STAFF_SECRET", stdout=io.StringIO()
    )
    client = Client()
    client.post("/accounts/login/", {"login": "plain@example.org", "password": TEST_PASSWORD})

    activated = _set_up_authenticator(client)

    assert activated["Location"] == "/accounts/2fa/recovery-codes/"
