"""Staff pages for instruments: the loaded definitions, an upload form (a definition in
Rapport's format, or a FHIR Questionnaire with its scoring part), and one version read-only.

Staff only, as the directory's staff pages: accounts marked staff (by flag or role) and
superusers. A signed-out visitor is sent to sign in; anyone else gets the same 404 as a page
that does not exist. MfaRequiredMiddleware asks staff for their second factor first (the pages
are under /staff/).

Each file is refused while it arrives once it passes MAX_UPLOAD_BYTES: the upload handler stops
keeping it, so an oversized file never sits in memory or on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts.models import Role, User
from rapport.care import instruments, selectors
from rapport.care.fhir_import import QUESTIONNAIRE, SCORING_PART, questionnaire_instrument
from rapport.care.models import InstrumentVersion
from rapport.care.services import instrument_load, instrument_store
from rapport.core.forms import AccessibleForm

MAX_UPLOAD_BYTES = 2**20
SIZE_LABEL = "1 MiB"
# Problems listed on the page; a file wrong in every item could otherwise list thousands.
PROBLEMS_SHOWN = 300


def can_manage_instruments(user: Any) -> bool:
    """Staff by flag or role, or a superuser: what new check-ins are scored with is theirs to
    decide. Everyone else gets a 404."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_staff or user.is_superuser or getattr(user, "role", None) == Role.STAFF)
    )


def _staff_only(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_manage_instruments(request.user):
        raise Http404("No such page.")
    return None


class _CappedFiles(FileUploadHandler):
    """Counts each uploaded file's bytes and skips the rest of a file past the cap (the other
    fields and files of the request still arrive, so the page can say which file was too big)."""

    def __init__(self, request: HttpRequest, cap: int) -> None:
        super().__init__(request)
        self.cap = cap
        self.received = 0
        self.too_large: set[str] = set()

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.cap:
            self.too_large.add(self.field_name)
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _json_file(label: str, help_text: str) -> forms.FileField:
    return forms.FileField(
        label=label,
        help_text=help_text,
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )


class DefinitionUploadForm(AccessibleForm):
    kind = forms.CharField(widget=forms.HiddenInput, initial="definition")
    definition = _json_file(
        "Definition file",
        f"A JSON file in Rapport's format (docs/instruments.md), in UTF-8, up to {SIZE_LABEL}.",
    )


class QuestionnaireUploadForm(AccessibleForm):
    kind = forms.CharField(widget=forms.HiddenInput, initial="fhir")
    questionnaire = _json_file(
        "FHIR Questionnaire",
        f"An HL7 FHIR R4 Questionnaire resource as JSON: its items and answers. Up to "
        f"{SIZE_LABEL}.",
    )
    scoring = _json_file(
        "Scoring part",
        "Rapport's format less the items: slug, version, scoring, subscales, critical items, "
        f'norms (docs/instruments.md, "From a FHIR Questionnaire"). Up to {SIZE_LABEL}.',
    )


@dataclass(frozen=True)
class _Problem:
    where: str
    message: str


def _text(form: AccessibleForm, name: str) -> str | None:
    """The uploaded file's text, or None with the reason on the field."""
    upload: UploadedFile = form.cleaned_data[name]
    data = upload.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        form.add_error(name, "This file is not UTF-8 text. Save it as UTF-8 and upload it again.")
        return None


@csrf_exempt
@require_http_methods(["GET", "POST"])
def instrument_list(request: HttpRequest) -> HttpResponse:
    refused = _staff_only(request)
    if refused is not None:
        return refused
    handler = _CappedFiles(request, MAX_UPLOAD_BYTES)
    # Before anything reads the body; CSRF is checked next, with the handler in place.
    request.upload_handlers.insert(0, handler)
    return _instrument_list(request, handler=handler)


@csrf_protect
def _instrument_list(request: HttpRequest, *, handler: _CappedFiles) -> HttpResponse:
    assert isinstance(request.user, User)
    definition_form = DefinitionUploadForm(prefix="native")
    questionnaire_form = QuestionnaireUploadForm(prefix="fhir")
    if request.method != "POST":
        return _list_page(request, definition_form, questionnaire_form)
    form: AccessibleForm
    names: tuple[str, ...]
    if request.POST.get("native-kind") == "definition":
        definition_form = DefinitionUploadForm(request.POST, request.FILES, prefix="native")
        form, names = definition_form, ("definition",)
    elif request.POST.get("fhir-kind") == "fhir":
        questionnaire_form = QuestionnaireUploadForm(request.POST, request.FILES, prefix="fhir")
        form, names = questionnaire_form, ("questionnaire", "scoring")
    else:
        return _list_page(request, definition_form, questionnaire_form, status=400)
    form.is_valid()
    for name in names:
        if f"{form.prefix}-{name}" in handler.too_large:
            form.errors.pop(name, None)
            form.add_error(name, f"This file is larger than {SIZE_LABEL}. Nothing was loaded.")
    if not form.is_valid():
        return _list_page(request, definition_form, questionnaire_form, status=400)
    texts = [_text(form, name) for name in names]
    if not form.is_valid():
        return _list_page(request, definition_form, questionnaire_form, status=400)
    try:
        if len(names) == 1:
            row, created = instrument_load(text=texts[0] or "", loaded_by=request.user)
        else:
            instrument = questionnaire_instrument(texts[0] or "", texts[1] or "")
            row, created = instrument_store(instrument=instrument, loaded_by=request.user)
    except instruments.DefinitionError as error:
        problems = [
            _Problem(where or "the whole file", message) for where, message in error.problems
        ]
        _tie_problems(form, names, error.problems)
        return _list_page(
            request, definition_form, questionnaire_form, problems=problems, status=400
        )
    if created:
        messages.success(request, f"Loaded {row.title} ({row.slug}) version {row.version}.")
    else:
        messages.info(
            request,
            f"Already loaded: {row.slug} version {row.version} has exactly this content. "
            "Nothing changed.",
        )
    return redirect("care_staff:instruments")


def _tie_problems(
    form: AccessibleForm, names: tuple[str, ...], problems: tuple[tuple[str, str], ...]
) -> None:
    """A short error on each file field the problems are about; the list itself follows the
    forms on the page."""
    counts: dict[str, int] = {}
    for where, _ in problems:
        if len(names) == 1:
            name = names[0]
        elif where.startswith(SCORING_PART):
            name = "scoring"
        else:
            name = "questionnaire" if where.startswith(QUESTIONNAIRE) else names[0]
        counts[name] = counts.get(name, 0) + 1
    for name, count in counts.items():
        form.add_error(
            name,
            f"Nothing was loaded: {count} problem{'s' if count != 1 else ''} in this file, "
            'listed under "Problems found".',
        )


def _list_page(
    request: HttpRequest,
    definition_form: DefinitionUploadForm,
    questionnaire_form: QuestionnaireUploadForm,
    *,
    problems: list[_Problem] | None = None,
    status: int = 200,
) -> HttpResponse:
    problems = problems or []
    for form in (definition_form, questionnaire_form):
        form.describe_fields()  # errors added after validation are tied to their fields too
    return render(
        request,
        "care/staff/instruments.html",
        {
            "rows": InstrumentVersion.objects.select_related("loaded_by").order_by(
                "slug", "-loaded_at", "-id"
            ),
            "current": {row.pk for row in selectors.instruments_current()},
            "definition_form": definition_form,
            "questionnaire_form": questionnaire_form,
            "problems": problems[:PROBLEMS_SHOWN],
            "problems_hidden": max(0, len(problems) - PROBLEMS_SHOWN),
            "size_label": SIZE_LABEL,
        },
        status=status,
    )


@require_safe
def instrument_detail(request: HttpRequest, slug: str, version: str) -> HttpResponse:
    refused = _staff_only(request)
    if refused is not None:
        return refused
    row = (
        InstrumentVersion.objects.filter(slug=slug, version=version)
        .select_related("loaded_by")
        .first()
    )
    if row is None:
        raise Http404("No such instrument version.")
    instrument = selectors.instrument_of(row)
    scored = {item.id for item in instrument.items if item.scored}
    return render(
        request,
        "care/staff/instrument_detail.html",
        {
            "row": row,
            "instrument": instrument,
            "scored": scored,
            "critical": {c.item_id: c.threshold for c in instrument.critical_items},
            "cutoff": _cutoff(instrument),
        },
    )


def _cutoff(instrument: instruments.Instrument) -> float | None:
    if instrument.norms is None:
        return None
    try:
        return instruments.clinical_cutoff(instrument)
    except (instruments.ChangeUnavailable, ValueError):
        return None
