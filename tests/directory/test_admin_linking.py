"""Roles follow data: a profile linked to an account through the Django admin makes that
account a therapist's for every rule, whatever its role field says."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from rapport.accounts.models import Role
from rapport.directory.models import TherapistProfile
from tests.factories import make_therapist, make_user

pytestmark = pytest.mark.django_db


class _FormFields(HTMLParser):
    """The values a browser would submit for the admin's change form, read from its HTML."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = attributes.get("id") == self.form_id
        if not self.inside:
            return
        name = attributes.get("name", "")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in {"checkbox", "radio"} and "checked" not in attributes:
                return
            if kind in {"submit", "button", "file", "image"}:
                return
            self.fields.append((name, attributes.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attributes:
            self.fields.append((self._select, attributes.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None


def _submitted(html: str, **changes: str) -> dict[str, list[str]]:
    parser = _FormFields("therapistprofile_form")
    parser.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    for name, value in changes.items():
        data[name] = [value]
    return data


def test_a_profile_linked_to_a_client_account_in_the_admin_makes_it_need_a_second_factor(
    admin_client, reference_data
):
    therapist = make_therapist(
        display_name="Linked Later",
        concerns=["anxiety"],
        modalities=["cbt"],
        populations=["individuals"],
        languages=["en"],
    )
    account = make_user(role=Role.CLIENT, email="linked.later@example.org")
    change = reverse("admin:directory_therapistprofile_change", args=[therapist.pk])
    form_page = admin_client.get(change)
    assert form_page.status_code == 200

    saved = admin_client.post(change, _submitted(form_page.content.decode(), user=str(account.pk)))

    assert saved.status_code == 302, saved.context["adminform"].form.errors
    assert TherapistProfile.objects.get(pk=therapist.pk).user_id == account.pk
    account.refresh_from_db()
    assert account.role == Role.CLIENT  # the admin left the role as it was; the data decides
    person = Client()
    person.force_login(account)
    practice = person.get("/practice/")
    assert practice.status_code == 302
    assert practice["Location"] == reverse("mfa_activate_totp")
    api = person.get("/api/v1/me")
    assert api.status_code == 403
