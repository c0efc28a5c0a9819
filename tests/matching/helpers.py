"""What matching's tests read back from pages and from the audit log, in one place."""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from rapport.booking.models import Appointment
from tests.html_tree import Node


def relax_buttons(document: Node) -> dict[str, str]:
    """The results page's "relax" forms: the constraint each one drops -> its button's words."""
    return {
        form.find_all("input", name="constraint")[0].attrs["value"]: form.find_all("button")[
            0
        ].text()
        for form in document.find_all("form")
        if form.attrs.get("action") == reverse("matching:relax")
    }


def last_change_of(appointment: Appointment) -> dict[str, Any]:
    """The fields the newest audited update of ``appointment`` changed."""
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Appointment),
        object_pk=str(appointment.pk),
        action=LogEntry.Action.UPDATE,
    ).latest("id")
    return dict(entry.changes_dict)
