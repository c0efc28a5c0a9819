"""Messaging's part of a person's data export and of account deletion (registered in
``MessagingConfig.ready()``).

As a client: every thread with every message, both sides' (all of it is about them). As a
therapist: their threads with their own messages only (attachments are listed with their
message, not bundled: the export is one JSON document); what clients wrote is the clients'
health data and stays in the clients' exports, as care does with check-in answers. Plus the
therapist's messaging settings.
"""

from __future__ import annotations

from typing import Any

from rapport.core.privacy import iso_or_none
from rapport.directory.models import TherapistProfile
from rapport.messaging.models import MessagingSettings, Sender, Thread

ATTACHMENTS_NOTE = (
    "Files sent with messages are listed by name, kind and size; this export does not carry "
    "the files themselves. Download them from the conversation while your account exists."
)


def _thread(thread: Thread, *, as_side: str, senders: tuple[str, ...]) -> dict[str, Any]:
    reason = thread.engagement if thread.engagement_id else thread.consultation
    return {
        "id": str(thread.public_id),
        "as": as_side,
        "therapist": {"id": str(thread.therapist.public_id), "name": thread.therapist.display_name},
        "client": {"email": thread.client.email, "name": thread.client.name},
        "reason": "engagement" if thread.engagement_id else "consultation",
        "reason_id": str(reason.public_id) if reason is not None else None,
        "client_time_zone": thread.client_time_zone,
        "created_at": iso_or_none(thread.created_at),
        "messages": [
            {
                "id": str(message.public_id),
                "sender": message.sender,
                "body": message.body,
                "about_scheduling": message.about_scheduling,
                "created_at": iso_or_none(message.created_at),
                # The person's own unread state, only for what they received.
                "read_at": iso_or_none(message.read_at) if message.sender != as_side else None,
                # The export is one JSON document: files are listed, and downloaded from the
                # thread's page while the account exists.
                "attachments": [
                    {
                        "id": str(file.public_id),
                        "name": file.display_name,
                        "kind": file.kind,
                        "size": file.size,
                    }
                    for file in message.attachments.all()
                ],
            }
            for message in thread.messages.all()
            if message.sender in senders
        ],
    }


def messaging_export(user: Any) -> dict[str, Any]:
    related = ("therapist", "client", "engagement", "consultation")
    rows = [
        _thread(thread, as_side=Sender.CLIENT, senders=(Sender.CLIENT, Sender.THERAPIST))
        for thread in Thread.objects.filter(client_id=user.pk)
        .select_related(*related)
        .prefetch_related("messages__attachments")
    ]
    settings_row = None
    therapist = TherapistProfile.objects.filter(user_id=user.pk).first()
    if therapist is not None:
        rows += [
            _thread(thread, as_side=Sender.THERAPIST, senders=(Sender.THERAPIST,))
            for thread in Thread.objects.filter(therapist=therapist)
            .select_related(*related)
            .prefetch_related("messages__attachments")
        ]
        found = MessagingSettings.objects.filter(therapist=therapist).first()
        if found is not None:
            settings_row = {
                "contact_days": found.weekdays,
                "contact_starts_at": found.contact_starts_at.isoformat()
                if found.contact_starts_at
                else None,
                "contact_ends_at": found.contact_ends_at.isoformat()
                if found.contact_ends_at
                else None,
                "daily_cap": found.daily_cap,
            }
    export: dict[str, Any] = {"threads": rows, "settings": settings_row}
    if any(message["attachments"] for row in rows for message in row["messages"]):
        export["attachments_note"] = ATTACHMENTS_NOTE
    return export
