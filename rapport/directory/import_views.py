"""The staff page for bulk imports: upload a CSV or JSON Lines file, read the row-by-row report.

Only staff who may add listings reach it (everyone else gets a 404, as if it did not exist), and
MfaRequiredMiddleware makes sure they have a second factor first (it is under /staff/). Marking
the rows verified also needs the licence-review permission, as the licence queue does.

The file is refused while it arrives once it passes the size cap: an upload handler stops
storing it, so an oversized file never fills the disk, let alone memory. The import runs while
the page waits (a few seconds for a practice's roster); migrations of tens of thousands of
listings are for `rapport import_therapists`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from rapport.accounts.models import User
from rapport.core.forms import AccessibleForm
from rapport.directory.access import can_review_licences
from rapport.directory.importing import therapists_import
from rapport.directory.importing.reading import size_label

IMPORT_PERMISSION = "directory.add_therapistprofile"
DEFAULT_MAX_UPLOAD_BYTES = 10 * 2**20
# Problems listed on the page; the rest are counted (a file with a wrong column in every row
# would otherwise make a page of thousands of identical lines).
PROBLEMS_SHOWN = 500


def max_upload_bytes() -> int:
    return int(getattr(settings, "THERAPIST_IMPORT_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def can_import_therapists(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(IMPORT_PERMISSION)
    )


class _CappedUpload(FileUploadHandler):
    """Counts the bytes of the uploaded file and stops storing it past the cap; the rest of the
    request is read and thrown away, so the browser gets the page with the message."""

    def __init__(self, request: HttpRequest, cap: int) -> None:
        super().__init__(request)
        self.cap = cap
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.cap:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class TherapistImportForm(AccessibleForm):
    # The file comes last in the page, so when the upload handler stops it at the cap the
    # other fields have already arrived and the page can say just what is wrong.
    field_order = ("file_format", "verified", "file")

    file_format = forms.ChoiceField(
        label="Format",
        choices=[("csv", "CSV"), ("jsonl", "JSON Lines (one JSON object per line)")],
        initial="csv",
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label="File to import",
        help_text="CSV (first line: the column names) or JSON Lines, in UTF-8.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.jsonl,.ndjson,text/csv"}),
    )


class VerifiedTherapistImportForm(TherapistImportForm):
    """For licence reviewers, who may vouch for the rows."""

    verified = forms.BooleanField(
        label="We checked these licences with the regulators: list the rows as verified",
        required=False,
        help_text=(
            "Each row gets a verification decision in your name, as in the licence queue. "
            "Leave it unticked and the listings wait for review, unlisted."
        ),
    )


def _form(may_verify: bool, *args: Any) -> TherapistImportForm:
    return (VerifiedTherapistImportForm if may_verify else TherapistImportForm)(*args)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def therapist_import(request: HttpRequest) -> HttpResponse:
    if not can_import_therapists(request.user):
        raise Http404("No such page.")
    cap = max_upload_bytes()
    handler = _CappedUpload(request, cap)
    # Before anything reads the body (CSRF is checked below, after the handler is in place).
    request.upload_handlers.insert(0, handler)
    return _therapist_import(request, handler=handler, cap=cap)


@csrf_protect
def _therapist_import(request: HttpRequest, *, handler: _CappedUpload, cap: int) -> HttpResponse:
    assert isinstance(request.user, User)
    may_verify = can_review_licences(request.user)
    if request.method != "POST":
        form = _form(may_verify)
        return _page(request, form=form, report=None, cap=cap)
    form = _form(may_verify, request.POST, request.FILES)
    if handler.exceeded:
        form.is_valid()
        form.errors.pop("file", None)
        form.add_error(
            "file",
            f"The file is larger than {size_label(cap)}. Split it, or import it with "
            "`rapport import_therapists` on the server.",
        )
        return _page(request, form=form, report=None, cap=cap, status=400)
    if not form.is_valid():
        return _page(request, form=form, report=None, cap=cap, status=400)
    upload = form.cleaned_data["file"]
    report = therapists_import(
        source=upload,
        file_format=form.cleaned_data["file_format"],
        verified_by=request.user if may_verify and form.cleaned_data.get("verified") else None,
        max_bytes=cap,
    )
    if report.refused:
        for problem in report.file_problems:
            form.add_error("file", problem)
        return _page(request, form=form, report=None, cap=cap, status=400)
    return _page(request, form=_form(may_verify), report=report, cap=cap)


def _page(
    request: HttpRequest,
    *,
    form: TherapistImportForm,
    report: Any,
    cap: int,
    status: int = 200,
) -> HttpResponse:
    grouped = report.problems_by_line() if report is not None else []
    return render(
        request,
        "directory/staff/import.html",
        {
            "form": form,
            "report": report,
            "problem_rows": grouped[:PROBLEMS_SHOWN],
            "problem_rows_hidden": max(0, len(grouped) - PROBLEMS_SHOWN),
            "cap": size_label(cap),
        },
        status=status,
    )
