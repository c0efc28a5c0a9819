"""State changes of the test health models, written the way the product's services are."""

from __future__ import annotations

from django.db import transaction

from rapport.accounts.models import User
from tests.healthdata_app.models import PrivateNote


def private_note_create(*, owner: User, body: str, title: str = "") -> PrivateNote:
    with transaction.atomic():
        return PrivateNote.objects.create(owner=owner, body=body, title=title)


def private_note_update(*, note: PrivateNote, body: str) -> PrivateNote:
    with transaction.atomic():
        note.body = body
        note.save(update_fields=["body"])
    return note


def private_note_delete(*, note: PrivateNote) -> None:
    with transaction.atomic():
        note.delete()
