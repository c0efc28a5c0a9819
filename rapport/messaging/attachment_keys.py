"""Attachment files under key rotation: ``rapport rotate_encryption_keys`` re-seals them with
the newest field key along with every encrypted field (registered in ``MessagingConfig``), so an
old key can be retired without making anyone's files unreadable. A file stored before files
were sealed counts as stale and is sealed by the same command."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction

from rapport.core import crypto
from rapport.messaging.attachments import (
    KINDS,
    attachment_storage,
    image_checked,
    seal,
    stored_name,
    stored_plain,
)
from rapport.messaging.models import MessageAttachment


def _raw(name: str) -> bytes:
    with attachment_storage().open(name, "rb") as handle:
        return bytes(handle.read())


def _resealed(raw: bytes, kind: str) -> tuple[bytes, int | None] | None:
    """The stored bytes under the newest key (with the new size of a file whose bytes
    changed), or None when they already are. A file stored before sealing is sealed now (an
    image re-encoded without its metadata first)."""
    if stored_plain(raw, kind):
        data = raw
        if KINDS[kind].pillow is not None:
            problem, cleaned = image_checked(raw, KINDS[kind])
            data = cleaned if problem is None else raw
        return seal(data), len(data)
    token = raw.decode("ascii", errors="replace")
    if crypto.is_under_newest_key(token):
        return None
    return crypto.rotate(token).encode("ascii"), None


class AttachmentSecrets(crypto.ExtraSecrets):
    label = "messaging attachment files"

    def count(self) -> tuple[int, int, int]:
        tally = crypto.KeyTally()
        rows = MessageAttachment.objects.values_list("stored_name", "kind").iterator()
        for name, kind in rows:
            try:
                raw = _raw(name)
            except FileNotFoundError:
                continue
            if stored_plain(raw, kind):
                tally.stale += 1  # from before sealing: sealed by rotate()
                continue
            tally.add(raw.decode("ascii", errors="replace"))
        return tally.as_tuple()

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
                    fresh = _resealed(_raw(row.stored_name), row.kind)
                except FileNotFoundError:
                    continue
                if fresh is None:
                    continue
                sealed, size = fresh
                name = storage.save(stored_name(KINDS[row.kind]), ContentFile(sealed))
                old = row.stored_name
                MessageAttachment.objects.filter(pk=pk).update(
                    stored_name=name, size=size if size is not None else row.size
                )
                transaction.on_commit(lambda old=old: storage.delete(old))  # type: ignore[misc]
                rewritten += 1
        return rewritten
