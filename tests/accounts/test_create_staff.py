"""`rapport create_staff`: the first staff accounts, ready to sign in."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from rapport.accounts.models import User
from tests.factories import TEST_PASSWORD

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
