"""Attachment files under key rotation: ``rapport rotate_encryption_keys`` re-seals them with
the newest field key along with every encrypted field (registered in ``MessagingConfig``), so an
old key can be retired without making anyone's files unreadable."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction

from rapport.core import crypto
from rapport.messaging.attachments import KINDS, attachment_storage, stored_name
from rapport.messaging.models import MessageAttachment


def _token(name: str) -> str:
    with attachment_storage().open(name, "rb") as handle:
        return handle.read().decode("ascii", errors="replace")


class AttachmentSecrets(crypto.ExtraSecrets):
    label = "messaging attachment files"

    def count(self) -> tuple[int, int, int]:
        current = stale = undecryptable = 0
        for name in MessageAttachment.objects.values_list("stored_name", flat=True).iterator():
            try:
                token = _token(name)
            except FileNotFoundError:
                continue
            if crypto.is_under_newest_key(token):
                current += 1
            elif crypto.is_decryptable(token):
                stale += 1
            else:
                undecryptable += 1
        return current, stale, undecryptable

    def rotate(self) -> int:
        """Each stale file is written again under a new random name and the row pointed at it;
        the old file goes once that commits (a failure midway leaves the old file in use)."""
        storage = attachment_storage()
        rewritten = 0
        for pk in MessageAttachment.objects.order_by("pk").values_list("pk", flat=True):
            with transaction.atomic():
                row = MessageAttachment.objects.select_for_update().filter(pk=pk).first()
                if row is None:
                    continue
                try:
                    token = _token(row.stored_name)
                except FileNotFoundError:
                    continue
                if crypto.is_under_newest_key(token):
                    continue
                fresh = crypto.rotate(token).encode("ascii")
                name = storage.save(stored_name(KINDS[row.kind]), ContentFile(fresh))
                old = row.stored_name
                MessageAttachment.objects.filter(pk=pk).update(stored_name=name)
                transaction.on_commit(lambda old=old: storage.delete(old))  # type: ignore[misc]
                rewritten += 1
        return rewritten
