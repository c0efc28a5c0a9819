"""Every e-mail Rapport sends ends with the crisis line, once, and the footer holds no one's data.

The list of e-mails is not written out here: it is every message template the apps hold
(``<app>/templates/<app>/email/*.txt`` without the ``_`` partials) and every message allauth
can send (its ``account``/``mfa`` ``*_message.txt``, through the project's own base), so a new
e-mail without the footer fails this file. Real sends (a booking, a sign-up, a password reset)
check the sending path too.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import allauth
import pytest
from django.conf import settings
from django.core import mail
from django.template.loader import get_template, render_to_string
from django.utils import timezone

import rapport
from tests.accounts.factories import make_user
from tests.booking.factories import book_consultation, make_bookable_therapist

# The footer as a reader sees it, written out independently of the partial.
CRISIS_LINE = (
    "If you are in crisis: in Canada and the US, call or text 9-8-8; call 911 if you are in "
    "immediate danger. Rapport is a directory, not an emergency service."
)
FOOTER_PARTIAL = "core/email/_crisis_footer.txt"

APPS_ROOT = Path(rapport.__file__).parent
ALLAUTH_ROOT = Path(allauth.__file__).parent / "templates"


def app_email_templates() -> list[str]:
    names = []
    for path in sorted(APPS_ROOT.glob("*/templates/*/email/*.txt")):
        if path.name.startswith("_"):
            continue  # partials, included by the messages
        names.append(f"{path.parent.parent.name}/email/{path.name}")
    return names


def allauth_email_templates() -> list[str]:
    return [
        str(path.relative_to(ALLAUTH_ROOT))
        for folder in ("account", "mfa")
        for path in sorted((ALLAUTH_ROOT / folder / "email").glob("*_message.txt"))
        if path.name != "base_message.txt"
    ]


APP_TEMPLATES = app_email_templates()
ALLAUTH_TEMPLATES = allauth_email_templates()


def test_the_enumeration_finds_every_app_that_sends_e_mail():
    apps = {name.split("/")[0] for name in APP_TEMPLATES}
    assert apps >= {"accounts", "booking", "care", "directory", "messaging", "videos"}
    assert "account/email/password_reset_key_message.txt" in ALLAUTH_TEMPLATES
    assert "account/email/email_confirmation_signup_message.txt" in ALLAUTH_TEMPLATES
    assert "mfa/email/totp_activated_message.txt" in ALLAUTH_TEMPLATES


def _stand_in(**extra: object) -> dict[str, object]:
    # Strings where templates print names and links; the footer must not depend on any of them.
    return {
        "site_url": "http://testserver",
        "kind": "consultation",
        "kind_label": "free consultation",
        "when": "Monday 7 December 2026, 10:00 to 10:15",
        **extra,
    }


@pytest.mark.parametrize("name", APP_TEMPLATES)
@pytest.mark.parametrize("to_client", [True, False], ids=["to-client", "to-therapist"])
def test_each_app_e_mail_ends_with_the_crisis_line_once(name, to_client):
    body = render_to_string(name, _stand_in(to_client=to_client))

    assert body.count(CRISIS_LINE) == 1
    assert body.rstrip().endswith(CRISIS_LINE)
    assert body.count("9-8-8") == 1  # no second, differently worded crisis line in the body


@pytest.mark.parametrize("name", ALLAUTH_TEMPLATES)
def test_each_allauth_message_ends_with_the_crisis_line_once(name):
    body = render_to_string(name, {"user": None, "ip": "", "user_agent": "", "timestamp": ""})

    assert body.count(CRISIS_LINE) == 1
    assert body.rstrip().endswith(CRISIS_LINE)


def test_the_footer_is_fixed_words_with_nothing_filled_in():
    source = (APPS_ROOT / "core" / "templates" / FOOTER_PARTIAL).read_text()
    assert get_template(FOOTER_PARTIAL)  # the path above is the one the loader finds
    without_comment = re.sub(r"\{#.*?#\}", "", source)

    assert "{{" not in without_comment
    assert "{%" not in without_comment
    # Rendered with someone's details in the context, none of them appear.
    rendered = render_to_string(
        FOOTER_PARTIAL, {"appointment": {"client_name": "Maya"}, "email": "maya@example.org"}
    )
    assert rendered.strip() == CRISIS_LINE


# --- the real sending paths -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_booking_e_mail_carries_the_footer_once(mailoutbox, django_capture_on_commit_callbacks):
    therapist = make_bookable_therapist()
    starts_at = (timezone.now() + dt.timedelta(days=2)).replace(
        hour=15, minute=0, second=0, microsecond=0
    )
    with django_capture_on_commit_callbacks(execute=True):
        book_consultation(therapist, starts_at, client_email="maya@example.org")

    assert ["maya@example.org"] in [message.to for message in mailoutbox]
    for message in mailoutbox:
        assert message.body.count(CRISIS_LINE) == 1
        assert message.body.rstrip().endswith(CRISIS_LINE)


@pytest.mark.django_db
def test_allauths_sign_up_and_password_reset_e_mails_carry_the_footer_once(client, mailoutbox):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new.person@example.org",
            "password1": "a long passphrase nobody guesses",
            "password2": "a long passphrase nobody guesses",
            "consent": "on",
            "terms_version": settings.CONSENT_VERSIONS["terms"],
            "privacy_version": settings.CONSENT_VERSIONS["privacy"],
        },
    )
    assert response.status_code == 302
    make_user(email="has.account@example.org")
    client.post("/accounts/password/reset/", {"email": "has.account@example.org"})

    assert [message.to for message in mailoutbox] == [
        ["new.person@example.org"],
        ["has.account@example.org"],
    ]
    for message in mailoutbox:
        assert message.body.count(CRISIS_LINE) == 1
        assert message.body.rstrip().endswith(CRISIS_LINE)
    assert "/accounts/password/reset/key/" in mail.outbox[1].body
