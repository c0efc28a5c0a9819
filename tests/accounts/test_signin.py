"""Sign-up, sign-in, password rules, address hygiene, enumeration and CSRF on the sign-in pages."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client

from rapport.accounts.forms import INVISIBLE_MESSAGE, MIXED_SCRIPTS_MESSAGE
from rapport.accounts.models import Consent, User
from tests.accounts.signin_helpers import (
    CHANGE_PASSWORD_URL,
    LOGIN_URL,
    LOGOUT_URL,
    PRIVATE_PAGE,
    RESET_URL,
    SIGNUP_URL,
    WRONG_CREDENTIALS,
    comparable,
    link_in_last_mail,
    session_user_id,
    sign_in,
)
from tests.accounts.test_passwords import PRODUCTION_PASSWORD_HASHERS
from tests.factories import TEST_PASSWORD, make_user

pytestmark = pytest.mark.django_db

PASSPHRASE = "a calm river under autumn light"
TOO_SHORT = "This password is too short. It must contain at least 12 characters."
TOO_COMMON = "This password is too common."


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth keeps rate-limit counters in the cache, which outlives a test.
    cache.clear()


def signup_data(**overrides: str) -> dict[str, str]:
    data = {
        "email": "ann@example.org",
        "password1": PASSPHRASE,
        "password2": PASSPHRASE,
        "consent": "on",
        "terms_version": settings.CONSENT_VERSIONS["terms"],
        "privacy_version": settings.CONSENT_VERSIONS["privacy"],
    }
    data.update(overrides)
    return data


def input_tag(html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert found is not None, name
    return found.group(0)


def field_errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


# --- sign-up -------------------------------------------------------------------------------


@pytest.fixture
def argon2(settings):
    """The production hashers, for the tests of hashing itself (the test settings put a fast
    one first)."""
    settings.PASSWORD_HASHERS = PRODUCTION_PASSWORD_HASHERS


def test_signup_creates_an_unverified_account_with_an_argon2id_hash_and_both_consents(
    client, argon2
):
    response = client.post(SIGNUP_URL, signup_data(name="Ann  Lee"))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get()
    assert user.email == "ann@example.org"
    assert user.name == "Ann Lee"
    assert user.role == "client"
    assert user.password.startswith("argon2$argon2id$")
    assert list(EmailAddress.objects.values_list("email", "verified")) == [
        ("ann@example.org", False)
    ]
    assert sorted(Consent.objects.values_list("kind", "version", "withdrawn_at")) == [
        ("privacy", settings.CONSENT_VERSIONS["privacy"], None),
        ("terms", settings.CONSENT_VERSIONS["terms"], None),
    ]
    # Not signed in until the address is confirmed.
    assert session_user_id(client) is None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ann@example.org"]
    assert mail.outbox[0].subject.startswith("[Rapport] ")


def test_signup_hashes_the_password_whether_or_not_the_address_has_an_account(
    client, monkeypatch, argon2
):
    """The two paths must cost the same, or timing tells which addresses have accounts: both
    run the production hasher on the typed password, exactly once."""
    from django.contrib.auth.hashers import get_hasher

    make_user(email="taken@example.org")
    hasher_class = type(get_hasher())
    assert hasher_class.__name__ == "Argon2PasswordHasher"
    hashed: list[str] = []
    encode = hasher_class.encode

    def counting_encode(self, password, salt, *args, **kwargs):
        hashed.append(password)
        return encode(self, password, salt, *args, **kwargs)

    monkeypatch.setattr(hasher_class, "encode", counting_encode)

    new_address = client.post(SIGNUP_URL, signup_data(email="new.person@example.org"))
    new_path = list(hashed)
    hashed.clear()
    taken_address = Client().post(SIGNUP_URL, signup_data(email="taken@example.org"))

    assert new_path == [PASSPHRASE]
    assert hashed == [PASSPHRASE]
    # And both answer alike: the same redirect, one e-mail each.
    assert (new_address.status_code, taken_address.status_code) == (302, 302)
    assert new_address["Location"] == taken_address["Location"]
    assert User.objects.filter(email="taken@example.org").count() == 1
    assert [message.to for message in mail.outbox] == [
        ["new.person@example.org"],
        ["taken@example.org"],
    ]


def test_opening_the_confirmation_link_does_not_confirm_until_the_button_is_pressed(client):
    client.post(SIGNUP_URL, signup_data())
    link = link_in_last_mail()

    page = client.get(link)

    assert page.status_code == 200
    assert EmailAddress.objects.get().verified is False
    assert f'<form class="account-form" method="post" action="{link}">' in page.content.decode()
    assert client.post(link).status_code == 302
    assert EmailAddress.objects.get().verified is True


def test_the_consent_box_names_the_documents_and_their_version(client):
    response = client.get(SIGNUP_URL)

    version = settings.CONSENT_VERSIONS["terms"]
    assert response.context["form"].fields["consent"].label == (
        f"I agree to the Terms of use and the Privacy notice (version {version})"
    )
    assert '<input type="checkbox" name="consent"' in response.content.decode()


def test_signup_without_consent_is_refused_and_writes_nothing(client):
    data = signup_data()
    del data["consent"]

    response = client.post(SIGNUP_URL, data)

    assert response.status_code == 200
    assert field_errors(response, "consent") == [
        "Please tick this box to agree to the Terms of use and the Privacy notice; we cannot "
        "create an account without it."
    ]
    assert User.objects.count() == 0
    assert Consent.objects.count() == 0
    assert mail.outbox == []


def test_signup_from_a_page_showing_old_document_versions_is_refused(client):
    response = client.post(SIGNUP_URL, signup_data(terms_version="2020-01"))

    assert field_errors(response, "consent") == [
        "The Terms of use or the Privacy notice changed while this page was open. Please read "
        "the current version and tick the box again."
    ]
    assert User.objects.count() == 0
    # The page shown again carries the current versions, so ticking the box again works.
    html = response.content.decode()
    current = settings.CONSENT_VERSIONS["terms"]
    assert f'<input type="hidden" name="terms_version" value="{current}"' in html
    assert client.post(SIGNUP_URL, signup_data()).status_code == 302
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("password", "message"),
    [("elevenchars", TOO_SHORT), ("qwerty123456", TOO_COMMON)],
    ids=["11 characters", "common 12 characters"],
)
def test_signup_applies_the_password_validators(client, password, message):
    response = client.post(SIGNUP_URL, signup_data(password1=password, password2=password))

    assert response.status_code == 200
    assert field_errors(response, "password1") == [message]
    assert User.objects.count() == 0


def test_signup_accepts_a_long_passphrase_without_composition_rules(client):
    response = client.post(SIGNUP_URL, signup_data())

    assert response.status_code == 302
    assert User.objects.get().check_password(PASSPHRASE)


def test_signup_refuses_a_second_password_that_differs(client):
    response = client.post(SIGNUP_URL, signup_data(password2=PASSPHRASE + "!"))

    assert field_errors(response, "password2") == ["You must type the same password each time."]
    assert User.objects.count() == 0


# --- address and name hygiene ---------------------------------------------------------------


def test_signup_normalises_a_full_width_address_with_nfkc(client):
    response = client.post(SIGNUP_URL, signup_data(email="ＡＮＮ@ｅｘａｍｐｌｅ.org"))

    assert response.status_code == 302
    assert User.objects.get().email == "ann@example.org"


@pytest.mark.parametrize(
    "address",
    [
        "ann@\u0430pple.com",  # Cyrillic "а" in a Latin domain label
        "ann@xn--pple-43d.com",  # the same label, spelled in punycode
        "p\u0430ypal@example.org",  # Cyrillic "а" in the local part
    ],
    ids=["unicode domain", "punycode domain", "local part"],
)
def test_signup_refuses_an_address_that_mixes_alphabets(client, address):
    response = client.post(SIGNUP_URL, signup_data(email=address))

    assert response.status_code == 200
    assert field_errors(response, "email") == [MIXED_SCRIPTS_MESSAGE]
    assert User.objects.count() == 0


def test_signup_accepts_a_domain_in_one_non_latin_alphabet(client):
    response = client.post(
        SIGNUP_URL, signup_data(email="ann@\u043f\u0440\u0438\u043c\u0435\u0440.ca")
    )

    assert response.status_code == 302
    assert User.objects.get().email == "ann@пример.ca"


@pytest.mark.parametrize(
    "address",
    [
        "ann\u200b@example.org",
        "ann@exa\u200dmple.org",
        "ann@example.org\u202e",
        "an\x07n@example.org",
    ],
    ids=["zero-width space", "zero-width joiner", "right-to-left override", "control character"],
)
def test_signup_refuses_invisible_characters_in_an_address(client, address):
    response = client.post(SIGNUP_URL, signup_data(email=address))

    assert field_errors(response, "email") == [INVISIBLE_MESSAGE]
    assert User.objects.count() == 0


@pytest.mark.parametrize("name", ["Ann\x00Lee", "Ann\u202eeeL", "Ann\u200bLee"])
def test_signup_refuses_hidden_characters_in_a_name(client, name):
    response = client.post(SIGNUP_URL, signup_data(name=name))

    assert field_errors(response, "name") == [INVISIBLE_MESSAGE]
    assert User.objects.count() == 0


def test_signup_keeps_joiners_that_names_need(client):
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # "mi-khaham", with a ZWNJ

    response = client.post(SIGNUP_URL, signup_data(name=persian))

    assert response.status_code == 302
    assert User.objects.get().name == persian


def test_oversized_fields_get_clear_errors_and_nothing_is_written(client):
    huge = "x" * 10_000
    response = client.post(
        SIGNUP_URL,
        signup_data(email=huge + "@example.org", password1=huge, password2=huge, name=huge),
    )

    assert response.status_code == 200
    assert field_errors(response, "email") == [
        "An e-mail address can be at most 254 characters long (this one has 10,012)."
    ]
    assert field_errors(response, "password1") == [
        "A password can be at most 128 characters long (this one has 10000)."
    ]
    assert field_errors(response, "name") == [
        "A name can be at most 150 characters long (this one has 10,000)."
    ]
    assert User.objects.count() == 0
    assert EmailAddress.objects.count() == 0
    assert mail.outbox == []


def test_an_oversized_sign_in_is_a_form_error(client):
    huge = "x" * 10_000
    response = sign_in(client, huge + "@example.org", huge)

    assert response.status_code == 200
    assert field_errors(response, "login") == [
        "An e-mail address can be at most 254 characters long (this one has 10,012)."
    ]
    assert field_errors(response, "password") == [
        "A password can be at most 1024 characters long (this one has 10000)."
    ]


def test_the_signup_form_ties_errors_and_help_to_their_fields(client):
    response = client.post(SIGNUP_URL, signup_data(email="not an address"))
    html = response.content.decode()

    assert '<label for="id_email">E-mail address</label>' in html
    email_input = input_tag(html, "email")
    assert 'aria-invalid="true"' in email_input
    assert 'aria-describedby="id_email_error"' in email_input
    assert (
        '<ul class="errorlist" id="id_email_error"><li>Enter a valid email address.</li></ul>'
        in html
    )
    password_input = input_tag(html, "password1")
    assert 'aria-describedby="id_password1_helptext"' in password_input
    assert 'id="id_password1_helptext"' in html


# --- sign-in ------------------------------------------------------------------------------


def test_a_verified_account_signs_in_and_gets_a_new_session(client):
    user = make_user(email="ann@example.org")

    response = sign_in(client, "ANN@example.org ", TEST_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert session_user_id(client) == str(user.pk)


def test_an_unverified_account_cannot_sign_in_until_the_address_is_confirmed(client):
    make_user(email="ann@example.org", verified_email=False)

    response = sign_in(client, "ann@example.org", TEST_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert session_user_id(client) is None
    assert mail.outbox[-1].to == ["ann@example.org"]


def test_a_wrong_password_is_refused_with_one_message_for_known_and_unknown_addresses():
    make_user(email="known@example.org")

    known = sign_in(Client(), "known@example.org", "not the password at all")
    unknown = sign_in(Client(), "nobody@example.org", "not the password at all")

    assert (known.status_code, unknown.status_code) == (200, 200)
    assert field_errors(known, "__all__") == [WRONG_CREDENTIALS]
    # The pages differ only in the address typed (and the CSRF token).
    known_page = comparable(known.content).replace("known@example.org", "ADDRESS")
    unknown_page = comparable(unknown.content).replace("nobody@example.org", "ADDRESS")
    assert known_page == unknown_page


def test_signup_with_a_taken_address_looks_exactly_like_a_new_signup():
    make_user(email="known@example.org")

    taken = Client().post(SIGNUP_URL, signup_data(email="known@example.org"), follow=True)
    fresh = Client().post(SIGNUP_URL, signup_data(email="new@example.org"), follow=True)

    assert [url for url, _ in taken.redirect_chain] == ["/accounts/confirm-email/"]
    assert [url for url, _ in fresh.redirect_chain] == ["/accounts/confirm-email/"]
    # Both pages say a confirmation went to the address typed, and differ only in that address.
    assert comparable(taken.content).replace("known@example.org", "ADDRESS") == comparable(
        fresh.content
    ).replace("new@example.org", "ADDRESS")
    assert User.objects.filter(email="known@example.org").count() == 1
    # The owner of the taken address hears about the attempt; nobody else does.
    assert sorted(message.to[0] for message in mail.outbox) == [
        "known@example.org",
        "new@example.org",
    ]


def test_a_reset_request_looks_the_same_for_known_and_unknown_addresses():
    make_user(email="known@example.org")

    known = Client().post(RESET_URL, {"email": "known@example.org"}, follow=True)
    unknown = Client().post(RESET_URL, {"email": "nobody@example.org"}, follow=True)

    assert [url for url, _ in known.redirect_chain] == ["/accounts/password/reset/done/"]
    assert [url for url, _ in unknown.redirect_chain] == ["/accounts/password/reset/done/"]
    assert comparable(known.content) == comparable(unknown.content)


# --- password reset and change use the same rules --------------------------------------------


def _open_reset_form(client: Client, email: str) -> str:
    client.post(RESET_URL, {"email": email})
    response = client.get(link_in_last_mail())
    # allauth moves the key out of the URL into the session before showing the form.
    assert response.status_code == 302
    return response["Location"]


@pytest.mark.parametrize(
    ("password", "message"),
    [("elevenchars", TOO_SHORT), ("qwerty123456", TOO_COMMON)],
    ids=["11 characters", "common 12 characters"],
)
def test_password_reset_applies_the_password_validators(client, password, message):
    user = make_user(email="ann@example.org")
    form_url = _open_reset_form(client, "ann@example.org")

    response = client.post(form_url, {"password1": password, "password2": password})

    assert response.status_code == 200
    assert field_errors(response, "password1") == [message]
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


def test_password_reset_accepts_a_passphrase(client, argon2):
    user = make_user(email="ann@example.org")
    form_url = _open_reset_form(client, "ann@example.org")

    response = client.post(form_url, {"password1": PASSPHRASE, "password2": PASSPHRASE})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(PASSPHRASE)
    assert user.password.startswith("argon2$argon2id$")


@pytest.mark.parametrize(
    ("password", "message"),
    [("elevenchars", TOO_SHORT), ("qwerty123456", TOO_COMMON)],
    ids=["11 characters", "common 12 characters"],
)
def test_password_change_applies_the_password_validators(client, password, message):
    user = make_user(email="ann@example.org")
    sign_in(client, "ann@example.org", TEST_PASSWORD)

    response = client.post(
        CHANGE_PASSWORD_URL,
        {"oldpassword": TEST_PASSWORD, "password1": password, "password2": password},
    )

    assert response.status_code == 200
    assert field_errors(response, "password1") == [message]
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


def test_password_change_accepts_a_passphrase(client):
    user = make_user(email="ann@example.org")
    sign_in(client, "ann@example.org", TEST_PASSWORD)

    response = client.post(
        CHANGE_PASSWORD_URL,
        {"oldpassword": TEST_PASSWORD, "password1": PASSPHRASE, "password2": PASSPHRASE},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(PASSPHRASE)


# --- CSRF, and no state change on GET ------------------------------------------------------


def test_a_get_to_the_logout_url_does_not_sign_out(client):
    user = make_user(email="ann@example.org")
    sign_in(client, "ann@example.org", TEST_PASSWORD)

    response = client.get(LOGOUT_URL)

    assert response.status_code == 200
    assert '<form class="account-form" method="post" action="/accounts/logout/">' in (
        response.content.decode()
    )
    assert session_user_id(client) == str(user.pk)


def test_a_logout_post_without_a_csrf_token_is_refused():
    user = make_user(email="ann@example.org")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(LOGOUT_URL)

    assert response.status_code == 403
    assert session_user_id(client) == str(user.pk)
    assert client.get(PRIVATE_PAGE).status_code == 200


def test_a_logout_post_with_the_csrf_token_signs_out():
    user = make_user(email="ann@example.org")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(PRIVATE_PAGE).content.decode()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found is not None
    token = found.group(1)

    response = client.post(LOGOUT_URL, {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert session_user_id(client) is None


@pytest.mark.parametrize(
    ("url", "data"),
    [
        (LOGIN_URL, {"login": "ann@example.org", "password": TEST_PASSWORD}),
        (SIGNUP_URL, signup_data()),
        (RESET_URL, {"email": "ann@example.org"}),
    ],
    ids=["sign-in", "sign-up", "reset"],
)
def test_sign_in_forms_refuse_a_post_without_a_csrf_token(url, data):
    make_user(email="ann@example.org")
    client = Client(enforce_csrf_checks=True)

    response = client.post(url, data)

    assert response.status_code == 403
    assert session_user_id(client) is None
    assert User.objects.count() == 1
    assert mail.outbox == []


# --- the header ------------------------------------------------------------------------------


def test_the_header_offers_sign_in_and_sign_up_to_visitors(client):
    html = client.get("/").content.decode()

    assert '<a href="/accounts/login/">Sign in</a>' in html
    assert '<a href="/accounts/signup/">Sign up</a>' in html
    assert "Sign out" not in html


def test_the_header_offers_the_account_and_a_sign_out_form_when_signed_in(client):
    client.force_login(make_user(email="ann@example.org"))

    html = client.get("/").content.decode()

    assert ">Your account</a>" in html
    sign_out = re.search(
        r'<form class="site-nav__form" method="post" action="/accounts/logout/">(.*?)</form>', html
    )
    assert sign_out is not None
    assert 'name="csrfmiddlewaretoken"' in sign_out.group(1)
    assert '<button class="site-nav__button" type="submit">Sign out</button>' in sign_out.group(1)
    assert 'href="/accounts/logout/"' not in html
    assert "Sign in</a>" not in html
