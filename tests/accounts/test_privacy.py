"""Consent, correction, export, deletion with a grace period, and the retention purge."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from allauth.account.models import EmailAddress
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import Consent, User
from rapport.accounts.selectors import account_export_data, consent_is_current
from rapport.accounts.services import (
    ConsentError,
    account_correct,
    account_deletion_cancel,
    account_deletion_request,
    consent_record,
    consent_withdraw,
    retention_purge,
)
from rapport.directory.models import TherapistProfile
from tests.factories import TEST_PASSWORD, make_therapist, make_user

pytestmark = pytest.mark.django_db


# --- consent -------------------------------------------------------------------------------


@override_settings(CONSENT_VERSIONS={"terms": "v2", "privacy": "v1", "share": "v1"})
def test_consent_is_recorded_only_for_the_current_version():
    user = make_user()
    consent = consent_record(user=user, kind="terms", version="v2")
    assert (consent.kind, consent.version, consent.withdrawn_at) == ("terms", "v2", None)
    assert consent_is_current(user=user, kind="terms")

    with pytest.raises(ConsentError) as error:
        consent_record(user=user, kind="privacy", version="v0")
    assert str(error.value) == (
        "That version of the privacy notice is out of date; please read the current one."
    )
    assert not consent_is_current(user=user, kind="privacy")
    assert Consent.objects.filter(user=user).count() == 1


def test_agreeing_twice_keeps_one_record_and_a_withdrawal_keeps_the_history():
    user = make_user()
    first = consent_record(user=user, kind="share", version="2026-11")
    assert consent_record(user=user, kind="share", version="2026-11") == first

    assert consent_withdraw(user=user, kind="share") == 1
    assert not consent_is_current(user=user, kind="share")
    again = consent_record(user=user, kind="share", version="2026-11")

    assert again != first
    history = list(Consent.objects.filter(user=user).order_by("given_at"))
    assert [row.withdrawn_at is None for row in history] == [False, True]


def test_an_unknown_consent_kind_is_refused():
    user = make_user()
    with pytest.raises(ConsentError) as error:
        consent_record(user=user, kind="marketing", version="2026-11")
    assert str(error.value) == "Unknown consent kind 'marketing'."


# --- correction ----------------------------------------------------------------------------


def test_account_name_is_corrected_and_tidied():
    user = make_user()
    account_correct(user=user, name="  Ada   Lovelace ")
    user.refresh_from_db()
    assert user.name == "Ada Lovelace"


def test_the_account_page_saves_a_name_and_refuses_an_oversized_one(client):
    user = make_user()
    client.force_login(user)
    response = client.post(reverse("accounts:overview"), {"name": "Grace"})
    assert response.status_code == 302
    too_long = client.post(reverse("accounts:overview"), {"name": "x" * 151})
    assert too_long.status_code == 400
    assert "A name can be at most 150 characters long (this one has 151)." in (
        too_long.content.decode()
    )
    hidden = client.post(reverse("accounts:overview"), {"name": "Ann\u202eevil\u200b"})
    assert hidden.status_code == 400
    user.refresh_from_db()
    assert user.name == "Grace"


# --- export --------------------------------------------------------------------------------


def test_export_holds_the_persons_data_and_nobody_elses(reference_data):
    user = make_user(email="ada@example.org", name="Ada")
    consent_record(user=user, kind="terms", version="2026-11")
    make_user(email="someone.else@example.org")
    therapist_account = make_user(role="therapist", mfa=True, email="ther@example.org")
    make_therapist(display_name="Dr Ther", user=therapist_account)

    data = account_export_data(user=user)

    assert data["account"]["email"] == "ada@example.org"
    assert data["account"]["name"] == "Ada"
    assert data["email_addresses"] == [
        {"email": "ada@example.org", "verified": True, "primary": True}
    ]
    assert [(c["kind"], c["version"]) for c in data["consents"]] == [("terms", "2026-11")]
    assert data["therapist_profile"] is None
    text = json.dumps(data)
    assert "someone.else@example.org" not in text
    assert "Dr Ther" not in text

    therapist_data = account_export_data(user=therapist_account)
    assert therapist_data["therapist_profile"]["display_name"] == "Dr Ther"
    assert [m["type"] for m in therapist_data["sign_in_methods"]] == ["totp"]
    assert "secret" not in json.dumps(therapist_data["sign_in_methods"])


def test_export_page_asks_for_the_password_again_first():
    user = make_user()
    client = Client()
    client.force_login(user)

    response = client.get(reverse("accounts:export_json"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))

    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    download = client.get(reverse("accounts:export_json"))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="rapport-export-')
    assert download.json()["account"]["email"] == user.email
    readable = client.get(reverse("accounts:export_html"))
    assert user.email in readable.content.decode()


def test_api_export_needs_a_recent_password_confirmation():
    user = make_user()
    client = Client()
    client.force_login(user)
    refused = client.get("/api/v1/me/export")
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"

    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    assert client.get("/api/v1/me/export").json()["account"]["email"] == user.email
    assert client.get("/api/v1/me").json()["email"] == user.email


def test_privacy_pages_need_a_sign_in():
    client = Client()
    for name in ("accounts:overview", "accounts:privacy", "accounts:export_json"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


# --- deletion ------------------------------------------------------------------------------


@override_settings(ACCOUNT_DELETION_GRACE_DAYS=14)
def test_deletion_is_scheduled_with_a_grace_period_and_can_be_cancelled(
    django_capture_on_commit_callbacks,
):
    user = make_user(email="leaving@example.org")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        account_deletion_request(user=user, now=now)

    assert user.deletion_requested_at == now
    assert user.deletion_due_at == now + dt.timedelta(days=14)
    assert [message.to for message in mail.outbox] == [["leaving@example.org"]]
    assert "will be deleted on" in mail.outbox[0].body

    account_deletion_cancel(user=user)
    assert (user.deletion_requested_at, user.deletion_due_at) == (None, None)
    assert retention_purge(now=now + dt.timedelta(days=30)).deleted_accounts == 0
    assert User.objects.filter(pk=user.pk).exists()


def test_purge_deletes_accounts_after_the_grace_period_with_their_sessions(reference_data):
    user = make_user()
    therapist_account = make_user(role="therapist", mfa=True)
    listing = make_therapist(user=therapist_account)
    client = Client()
    client.force_login(user)
    session_key = client.session.session_key
    now = timezone.now()
    account_deletion_request(user=user, now=now)
    account_deletion_request(user=therapist_account, now=now)

    early = retention_purge(now=now + dt.timedelta(days=13))
    assert early.deleted_accounts == 0
    assert User.objects.filter(pk=user.pk).exists()

    report = retention_purge(now=now + dt.timedelta(days=15))
    assert report.deleted_accounts == 2
    assert not User.objects.filter(pk__in=[user.pk, therapist_account.pk]).exists()
    assert not Session.objects.filter(session_key=session_key).exists()
    assert Consent.objects.filter(user_id=user.pk).count() == 0
    # The practice's listing outlives the account; staff decide what happens to it.
    assert TherapistProfile.objects.get(pk=listing.pk).user_id is None


def test_purge_removes_never_confirmed_sign_ups_but_not_confirmed_ones():
    old = timezone.now() - dt.timedelta(days=31)
    unconfirmed = make_user(verified_email=False, date_joined=old)
    EmailAddress.objects.create(user=unconfirmed, email=unconfirmed.email, verified=False)
    confirmed = make_user(date_joined=old)
    recent = make_user(verified_email=False)

    report = retention_purge()

    assert report.unverified_accounts == 1
    assert list(User.objects.order_by("pk").values_list("pk", flat=True)) == [
        confirmed.pk,
        recent.pk,
    ]


def test_deletion_page_flow(client):
    user = make_user()
    client.force_login(user)
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    response = client.post(reverse("accounts:deletion_request"))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.deletion_due_at is not None
    page = client.get(reverse("accounts:privacy")).content.decode()
    assert "Keep my account" in page
    client.post(reverse("accounts:deletion_cancel"))
    user.refresh_from_db()
    assert user.deletion_due_at is None


def test_deletion_cannot_be_triggered_by_a_get(client):
    user = make_user()
    client.force_login(user)
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    assert client.get(reverse("accounts:deletion_request")).status_code == 405
    user.refresh_from_db()
    assert user.deletion_due_at is None


def test_purge_command_reports_what_it_did(capsys):
    from django.core.management import call_command

    call_command("purge")
    assert capsys.readouterr().out.startswith("Deleted 0 account(s) at the end of their grace")


# --- the audit trail survives the deletion of whoever read health data ---------------------


def _read_note_as(reader, note):
    from django.test import RequestFactory

    from rapport.core.audit import audit_read

    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9")
    request.user = reader
    audit_read(request=request, instance=note)


def test_deleting_a_therapist_keeps_who_read_a_clients_data():
    from tests.healthdata_app.models import PrivateNote

    client_user = make_user(email="client@example.org")
    therapist = make_user(role="therapist", mfa=True, email="reader@example.org")
    note = PrivateNote.objects.create(owner=client_user, body="private")
    _read_note_as(therapist, note)
    now = timezone.now()
    account_deletion_request(user=therapist, now=now)

    retention_purge(now=now + dt.timedelta(days=30))

    from rapport.core.audit import audit_entries_about_user

    entries = list(audit_entries_about_user(user=client_user))
    reads = [entry for entry in entries if entry.actor_email == "reader@example.org"]
    assert len(reads) == 1
    assert reads[0].actor_id is None
    assert reads[0].remote_addr == "203.0.113.9"


def test_deleting_a_client_removes_their_address_from_their_own_entries():
    from tests.healthdata_app.models import PrivateNote

    client_user = make_user(email="leaver@example.org")
    note = PrivateNote.objects.create(owner=client_user, body="private")
    _read_note_as(client_user, note)
    from auditlog.models import LogEntry

    now = timezone.now()
    account_deletion_request(user=client_user, now=now)
    retention_purge(now=now + dt.timedelta(days=30))

    assert not LogEntry.objects.filter(actor_email="leaver@example.org").exists()


def test_purge_never_removes_staff_made_therapist_or_staff_accounts_without_e_mail_records():
    old = timezone.now() - dt.timedelta(days=60)
    therapist = make_user(role="therapist", verified_email=False, date_joined=old)
    staff = make_user(role="staff", verified_email=False, date_joined=old)

    assert retention_purge().unverified_accounts == 0
    assert User.objects.filter(pk__in=[therapist.pk, staff.pk]).count() == 2
