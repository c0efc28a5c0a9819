"""A page showing a note to its owner (audited), and one that fails while holding the text."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from rapport.core.audit import audit_read
from tests.healthdata_app.models import PrivateNote


def _own_note(request: HttpRequest, note_id: UUID) -> PrivateNote:
    note = PrivateNote.objects.filter(pk=note_id, owner_id=request.user.pk).first()
    if note is None:
        raise Http404("No such note.")
    return note


@login_required
def note_detail(request: HttpRequest, note_id: UUID) -> HttpResponse:
    note = _own_note(request, note_id)
    audit_read(request=request, instance=note, reason="owner")
    return HttpResponse(note.body, content_type="text/plain; charset=utf-8")


class NoteRenderingFailed(RuntimeError):
    pass


@login_required
def note_broken(request: HttpRequest, note_id: UUID) -> HttpResponse:
    note = _own_note(request, note_id)
    audit_read(request=request, instance=note, reason="owner")
    body = note.body  # in scope when the error happens, as in a real bug
    draft = request.POST.get("body", "")
    raise NoteRenderingFailed(f"could not render note {note.pk} ({len(body) + len(draft)} chars)")
