"""allauth's account forms with Rapport's input rules on top.

An e-mail address is the account's identity, so it is cleaned the same way everywhere it is
typed (sign-up, sign-in, reset, change): NFKC-normalised (a full-width "ａ" is an "a"), and
refused when it hides characters a person cannot see or mixes alphabets the way look-alike
addresses do ("pаypal" with a Cyrillic "а"). Every field has a length limit with a message a
person can act on, checked before any expensive work, so an oversized post is a form error
and never a server error.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from allauth.account import forms as allauth_forms
from allauth.account.fields import EmailField as AllauthEmailField
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import transaction
from django.http import HttpRequest, QueryDict

from rapport.accounts.models import User
from rapport.accounts.services import account_become_therapist, account_correct, consent_record

EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length or 254
NAME_MAX_LENGTH = User._meta.get_field("name").max_length or 150
# Sign-in accepts longer passwords than sign-up allows, so an account whose password was set
# elsewhere (createsuperuser) can still sign in; past this it is an attack, not a password.
SIGN_IN_PASSWORD_MAX_LENGTH = 1024

CONSENT_KINDS = ("terms", "privacy")

# Code points that render as nothing (or as blank space) without being ordinary spaces; a
# name or address containing one looks like another that does not.
_INVISIBLE_CODE_POINTS = frozenset(
    [
        0x034F,  # combining grapheme joiner
        0x115F,  # Hangul fillers
        0x1160,
        0x3164,
        0xFFA0,
        0x17B4,  # Khmer inherent vowels
        0x17B5,
        *range(0x180B, 0x1810),  # Mongolian variation selectors and vowel separator
        *range(0xFE00, 0xFE10),  # variation selectors
        *range(0xE0100, 0xE01F0),  # variation selectors supplement
    ]
)
# Control, format (zero-width, bidi overrides, soft hyphen), surrogate, private-use and
# unassigned characters, and line/paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Zero-width (non-)joiners are part of correct spelling in Persian, Indic scripts and emoji,
# so names may contain them; addresses may not.
_JOINERS = frozenset({0x200C, 0x200D})

# Scripts that may share one name part, as in Unicode's "highly restrictive" profile (UTS #39):
# Japanese, Chinese and Korean writing mixes these with Latin letters. Everything else must
# stay in one script.
_ALLOWED_SCRIPT_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_SCRIPT_ALIASES = {"CJK": "HAN", "IDEOGRAPHIC": "HAN", "KATAKANA-HIRAGANA": None}

INVISIBLE_MESSAGE = (
    "This contains invisible or control characters (such as a zero-width space), which can "
    "make it look like something it is not. Please type it again by hand."
)
MIXED_SCRIPTS_MESSAGE = (
    "This address mixes letters from different alphabets (for example Latin and Cyrillic), "
    "which is how look-alike addresses are made. Please use one alphabet in each part of "
    "the address."
)


def _is_hidden(character: str, *, allow_joiners: bool = False) -> bool:
    code_point = ord(character)
    if allow_joiners and code_point in _JOINERS:
        return False
    return code_point in _INVISIBLE_CODE_POINTS or unicodedata.category(character) in (
        _HIDDEN_CATEGORIES
    )


def _script_of(character: str) -> str | None:
    """The script of a letter, from its Unicode name ("CYRILLIC SMALL LETTER A" → CYRILLIC).

    Python's unicodedata has no Script property; the first word of a letter's name is that
    script for every living script. Digits, marks and punctuation belong to all scripts.
    """
    if not unicodedata.category(character).startswith("L"):
        return None
    word = unicodedata.name(character, "UNKNOWN").split(" ", 1)[0]
    return _SCRIPT_ALIASES.get(word, word)


def mixes_scripts(text: str) -> bool:
    scripts = {script for script in map(_script_of, text) if script}
    if len(scripts) <= 1:
        return False
    return not any(scripts <= allowed for allowed in _ALLOWED_SCRIPT_MIXES)


def _too_long(limit: int, length: int, what: str) -> ValidationError:
    return ValidationError(
        f"{what} can be at most {limit:,} characters long (this one has {length:,}).",
        code="max_length",
    )


def normalise_email_address(value: str) -> str:
    """NFKC form of an address, or a ValidationError saying what is wrong with it.

    Format checks (one "@", a valid domain) are left to Django's validator, which runs after.
    """
    if len(value) > EMAIL_MAX_LENGTH:
        raise _too_long(EMAIL_MAX_LENGTH, len(value), "An e-mail address")
    normalised = unicodedata.normalize("NFKC", value).strip()
    if len(normalised) > EMAIL_MAX_LENGTH:
        raise _too_long(EMAIL_MAX_LENGTH, len(normalised), "An e-mail address")
    if any(_is_hidden(character) for character in normalised):
        raise ValidationError(INVISIBLE_MESSAGE, code="invisible_characters")
    local_part, at, domain = normalised.rpartition("@")
    if not at:
        return normalised
    labels = [_decoded_domain_label(label) for label in domain.split(".")]
    if mixes_scripts(local_part) or any(mixes_scripts(label) for label in labels):
        raise ValidationError(MIXED_SCRIPTS_MESSAGE, code="mixed_scripts")
    return normalised


def _decoded_domain_label(label: str) -> str:
    """An "xn--" label in its Unicode form, so an address cannot hide a look-alike domain in
    punycode (xn--80ak6aa92e is "аррӏе", all Cyrillic)."""
    if not label.lower().startswith("xn--"):
        return label
    try:
        return label.encode("ascii").decode("idna")
    except UnicodeError:
        raise ValidationError("Enter a valid email address.", code="invalid") from None


def normalise_display_name(value: str) -> str:
    """A name as typed, NFKC-normalised with runs of spaces collapsed; no hidden characters."""
    if len(value) > NAME_MAX_LENGTH:
        raise _too_long(NAME_MAX_LENGTH, len(value), "A name")
    normalised = " ".join(unicodedata.normalize("NFKC", value).split())
    if len(normalised) > NAME_MAX_LENGTH:
        raise _too_long(NAME_MAX_LENGTH, len(normalised), "A name")
    if any(_is_hidden(character, allow_joiners=True) for character in normalised):
        raise ValidationError(INVISIBLE_MESSAGE, code="invisible_characters")
    return normalised


class SafeEmailField(AllauthEmailField):
    """allauth's e-mail field (lower-cases, autocomplete) with the rules above applied before
    Django's format check, so the person gets the specific message."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", EMAIL_MAX_LENGTH)
        kwargs.setdefault("label", "E-mail address")
        super().__init__(**kwargs)
        self.widget.attrs.pop("placeholder", None)

    def to_python(self, value: Any) -> str:
        text: str = super().to_python(value)
        if text in self.empty_values:
            return text
        return normalise_email_address(text)


class DisplayNameField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", NAME_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if not text:
            return ""
        return normalise_display_name(text)


def _limit_password(field: forms.Field, limit: int) -> None:
    """A server-side cap only: a maxlength attribute would make browsers cut a pasted
    password short without a word, and the person could never sign in with what they typed."""
    field.validators.append(
        MaxLengthValidator(
            limit,
            message=(
                "A password can be at most %(limit_value)d characters long "
                "(this one has %(show_value)d)."
            ),
        )
    )
    field.widget.attrs.pop("placeholder", None)


class _PasswordLimits:
    """Applies the length caps to a form's password fields by name."""

    new_password_fields: tuple[str, ...] = ()
    current_password_fields: tuple[str, ...] = ()
    fields: dict[str, forms.Field]

    def _limit_passwords(self) -> None:
        for name in self.new_password_fields:
            if name in self.fields:
                _limit_password(self.fields[name], settings.PASSWORD_MAX_LENGTH)
        for name in self.current_password_fields:
            if name in self.fields:
                _limit_password(self.fields[name], SIGN_IN_PASSWORD_MAX_LENGTH)


class LoginForm(_PasswordLimits, allauth_forms.LoginForm):
    current_password_fields = ("password",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"] = SafeEmailField()
        self.order_fields(["login", "password"])
        self._limit_passwords()

    def clean(self) -> dict[str, Any]:
        # A locked-out address-and-client pair gets axes' lockout page (with its wait time)
        # before allauth's own per-address throttle can answer with a vaguer message.
        if "login" in self.cleaned_data and "password" in self.cleaned_data:
            self._refuse_if_locked_out(self.user_credentials())
        cleaned: dict[str, Any] = super().clean()
        return cleaned

    def _refuse_if_locked_out(self, credentials: dict[str, Any]) -> None:
        request: HttpRequest | None = self.request
        if request is None or not getattr(settings, "AXES_ENABLED", True):
            return
        if AxesProxyHandler.is_allowed(request, credentials):
            return
        # AxesMiddleware turns this flag into the lockout response.
        request.axes_locked_out = True  # type: ignore[attr-defined]
        request.axes_credentials = credentials  # type: ignore[attr-defined]
        raise ValidationError(settings.AXES_COOLOFF_MESSAGE, code="locked_out")


class SignupForm(_PasswordLimits, allauth_forms.SignupForm):
    """E-mail, an optional name, a password twice, whether the person is a therapist, and
    consent to the current documents."""

    new_password_fields = ("password1", "password2")

    email = SafeEmailField(required=True)
    name = DisplayNameField(
        required=False,
        label="What should we call you? (optional)",
        help_text="Used in e-mails from Rapport. You can leave it empty.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    is_therapist = forms.BooleanField(
        required=False,
        label="I am a therapist and want to list my practice",
        help_text=(
            "Therapist accounts set up two-factor authentication before anything else, and "
            "a listing shows only once we have verified your licence."
        ),
    )
    consent = forms.BooleanField(
        required=True,
        error_messages={
            "required": (
                "Please tick this box to agree to the Terms of use and the Privacy notice; "
                "we cannot create an account without it."
            )
        },
    )
    # The versions the person was shown; consent is only recorded for the current ones, so a
    # page left open while the documents changed cannot agree to text nobody read.
    terms_version = forms.CharField(required=False, widget=forms.HiddenInput, max_length=32)
    privacy_version = forms.CharField(required=False, widget=forms.HiddenInput, max_length=32)

    field_order = ["email", "name", "password1", "password2", "is_therapist", "consent"]
    data: QueryDict

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # allauth relabels its fields in __init__; keep the site's wording.
        self.fields["email"].label = "E-mail address"
        versions = settings.CONSENT_VERSIONS
        self.fields["consent"].label = consent_label(versions)
        self.fields["terms_version"].initial = versions["terms"]
        self.fields["privacy_version"].initial = versions["privacy"]
        self._limit_passwords()

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()
        versions = settings.CONSENT_VERSIONS
        shown = {kind: cleaned.get(f"{kind}_version") for kind in CONSENT_KINDS}
        if cleaned.get("consent") and any(shown[kind] != versions[kind] for kind in CONSENT_KINDS):
            self.add_error(
                "consent",
                "The Terms of use or the Privacy notice changed while this page was open. "
                "Please read the current version and tick the box again.",
            )
        if self.is_bound:
            # Validation used the versions the person was shown; a re-displayed form shows
            # (and will send back) the current ones, which its label now names.
            shown_again = self.data.copy()
            for kind in CONSENT_KINDS:
                shown_again[f"{kind}_version"] = versions[kind]
            self.data = shown_again
        return cleaned

    def try_save(self, request: HttpRequest) -> Any:
        if self.account_already_exists:
            # allauth answers as if a new account were made (and mails the address's owner),
            # but would skip the one slow step of a real sign-up, hashing the password: the
            # difference in time (tens of milliseconds against more than half a second) would
            # tell anyone which addresses have accounts. So the same hash is computed, and
            # thrown away.
            make_password(self.cleaned_data.get("password1"))
        return super().try_save(request)

    def save(self, request: HttpRequest) -> Any:
        # The account and the consents it was created under are one fact: never one without
        # the other.
        with transaction.atomic():
            return super().save(request)

    def signup(self, request: HttpRequest, user: User) -> None:
        """Called by allauth inside save(), once the user row exists."""
        name = self.cleaned_data.get("name")
        if name:
            account_correct(user=user, name=name)
        if self.cleaned_data.get("is_therapist"):
            account_become_therapist(user=user)
        for kind in CONSENT_KINDS:
            consent_record(
                user=user, kind=kind, version=settings.CONSENT_VERSIONS[kind], request=request
            )


def consent_label(versions: dict[str, str]) -> str:
    if versions["terms"] == versions["privacy"]:
        return f"I agree to the Terms of use and the Privacy notice (version {versions['terms']})"
    return (
        f"I agree to the Terms of use (version {versions['terms']}) and the Privacy notice "
        f"(version {versions['privacy']})"
    )


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    email = SafeEmailField(required=True)


class ResetPasswordKeyForm(_PasswordLimits, allauth_forms.ResetPasswordKeyForm):
    new_password_fields = ("password1", "password2")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_passwords()


class ChangePasswordForm(_PasswordLimits, allauth_forms.ChangePasswordForm):
    new_password_fields = ("password1", "password2")
    current_password_fields = ("oldpassword",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_passwords()


class SetPasswordForm(_PasswordLimits, allauth_forms.SetPasswordForm):
    new_password_fields = ("password1", "password2")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_passwords()


class ReauthenticateForm(_PasswordLimits, allauth_forms.ReauthenticateForm):
    current_password_fields = ("password",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_passwords()


class AddEmailForm(allauth_forms.AddEmailForm):
    email = SafeEmailField(required=True)


class ChangeEmailForm(allauth_forms.ChangeEmailForm):
    email = SafeEmailField(required=True)


class AccountDetailsForm(forms.Form):
    # The same rules as at sign-up: no invisible or direction-changing characters, because
    # this name is what others see (e.g. in a client's "who viewed my data" list).
    name = DisplayNameField(required=False, help_text="What we call you in e-mails. Optional.")
