"""The fit questionnaire (/match/), its ranked results and the person's fit profile (pages).

No account is needed: the answers so far live in the session, encrypted (``session``). A
signed-in person's answers are their fit profile, saved at every step; the profile is where
their questionnaire starts. Every step checks the whole document with
``answers.answers_from_data``; a refused step shows the error at its field (status 400), stays
on the step, and changes nothing. Answers never appear in a URL: each step's address names only
the question.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rapport.accounts.models import User
from rapport.directory.search.engine import current_index
from rapport.matching import access, ranking, selectors, services, terms
from rapport.matching.answers import (
    AVAILABILITY_LABELS,
    MISFIT_LABELS,
    PREFERENCE_TAXONOMY,
    STYLE_FIELDS,
    FitAnswers,
    FitAnswersError,
    MisfitReason,
    PreferenceKey,
    answers_from_data,
)
from rapport.matching.forms import (
    STEP_BY_SLUG,
    STEP_NUMBER,
    STEPS,
    STYLE_FORM_FIELDS,
    MisfitRemoveForm,
    RelaxForm,
    Step,
    StepForm,
    step_of,
)
from rapport.matching.models import FitProfile
from rapport.matching.session import (
    has_session_answers,
    session_answers,
    session_answers_forget,
    session_answers_keep,
)
from rapport.matching.words import DELIVERY_LABELS, GENDER_CHOICES, style_label, term_names

MAX_PAGE = 1000


# --- the answers so far -----------------------------------------------------------------------


def _signed_in(request: HttpRequest) -> User | None:
    user = request.user
    if isinstance(user, User) and user.is_authenticated and user.is_active:
        return user
    return None


def current_answers(request: HttpRequest) -> tuple[FitAnswers, FitProfile | None]:
    """A signed-in person's fit profile (nothing when they have none, such as after deleting
    it), else the session's answers of someone signed out.

    A signed-in person's answers are never read from the session: a copy there could be one
    their profile no longer holds. Any copy left over (kept before signing in, when the
    sign-in did not take it) is forgotten here."""
    if _signed_in(request) is not None:
        if has_session_answers(request.session):
            session_answers_forget(request.session)
        profile = access.own_fit_profile(request.user)
        if profile is not None:
            return selectors.fit_profile_answers(profile), profile
        return FitAnswers(), None
    return session_answers(request.session) or FitAnswers(), None


def _keep(request: HttpRequest, answers: FitAnswers) -> None:
    """The checked answers into a signed-in person's fit profile (only there), else into the
    session of someone signed out."""
    user = _signed_in(request)
    if user is not None:
        services.fit_profile_save(owner=user, answers=answers)
    else:
        session_answers_keep(request.session, answers)


def _check_place(answers: FitAnswers) -> None:
    """Raise FitAnswersError (field "place") for a place the ranking could not find."""
    if answers.place:
        ranking.constraints_query(answers, index=current_index())


# --- the questionnaire ------------------------------------------------------------------------


def _step_url(step: Step) -> str:
    return reverse("matching:question", args=[step.slug])


def _neighbours(step: Step) -> tuple[str, str]:
    """The addresses of "Back" and of the page after this step ("Skip" and "Next")."""
    number = STEP_NUMBER[step.slug]
    back = _step_url(STEPS[number - 2]) if number > 1 else reverse("matching:start")
    after = _step_url(STEPS[number]) if number < len(STEPS) else reverse("matching:results")
    return back, after


@require_safe
def start(request: HttpRequest) -> HttpResponse:
    """How long it takes, that every question can be skipped, and what happens to the answers."""
    answers, profile = current_answers(request)
    return render(
        request,
        "matching/start.html",
        {
            "first_step": _step_url(STEPS[0]),
            "steps": len(STEPS),
            "has_answers": not answers.is_empty,
            "has_profile": profile is not None,
            "signed_in": _signed_in(request) is not None,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def question(request: HttpRequest, step: str) -> HttpResponse:
    found = STEP_BY_SLUG.get(step)
    if found is None:
        raise Http404("No such question.")
    answers, _ = current_answers(request)
    document = answers.to_data()
    slugs = terms.active_slugs()
    back, after = _neighbours(found)
    status = 200
    form: StepForm
    # Places close to one not found, each offered as an answer in one press.
    place_suggestions: tuple[str, ...] = ()
    if request.method == "POST":
        form = found.form_class(request.POST, term_slugs=slugs)
        if form.is_valid():
            try:
                checked = answers_from_data(form.apply(document), term_slugs=slugs)
                if found.slug == "place":
                    _check_place(checked)
            except FitAnswersError as error:
                form.add_answers_error(error)
                place_suggestions = error.suggestions
            else:
                _keep(request, checked)
                return redirect(after)
        status = 400
    else:
        initial = found.form_class.initial_from(document)
        if found.slug == "place" and answers.place:
            # Sent back here from the results (the place was not found): say why at the field.
            form = found.form_class(initial, term_slugs=slugs)
            form.is_valid()
            try:
                _check_place(answers)
            except FitAnswersError as error:
                form.add_answers_error(error)
                place_suggestions = error.suggestions
        else:
            form = found.form_class(initial=initial, term_slugs=slugs)
    return render(
        request,
        "matching/question.html",
        {
            "step": found,
            "form": form,
            "number": STEP_NUMBER[found.slug],
            "steps": len(STEPS),
            "back_url": back,
            "skip_url": after,
            "is_last": STEP_NUMBER[found.slug] == len(STEPS),
            "style_fields": [form[name] for name in STYLE_FORM_FIELDS if name in form.fields],
            "place_suggestions": place_suggestions,
        },
        status=status,
    )


# --- results ----------------------------------------------------------------------------------


def _page_number(raw: str | None) -> int:
    if raw and raw.isdecimal() and len(raw) <= 4:
        return min(max(int(raw), 1), MAX_PAGE)
    return 1


def _seed_key(request: HttpRequest, profile: FitProfile | None) -> str:
    if profile is not None:
        return str(profile.public_id)
    if request.session.session_key is None:
        request.session.save()
    return request.session.session_key or ""


def _viewer(request: HttpRequest, user: User | None) -> str:
    """Who is counted once a day on the exposure figures: the account, else the session."""
    if user is not None:
        return services.account_viewer(user.pk)
    if request.session.session_key is None:
        request.session.save()
    return f"session:{request.session.session_key}"


@require_safe
def results(request: HttpRequest) -> HttpResponse:
    answers, profile = current_answers(request)
    user = _signed_in(request)
    now = timezone.now()
    today = timezone.localdate(now)
    try:
        listing = ranking.rank(
            answers=answers,
            now=now,
            seed=ranking.rotating_seed(day=today, key=_seed_key(request, profile)),
            page=_page_number(request.GET.get("page")),
            page_size=ranking.DEFAULT_PAGE_SIZE,
            exclude_therapist_ids=selectors.past_therapist_ids(user=user) if user else (),
        )
    except FitAnswersError as error:
        # The place question shows its message at the field itself (it checks the place
        # again); any other question is named above it.
        # Messages may travel in a cookie, so they never repeat an answer.
        step = step_of(error.field) or STEPS[0]
        if step.slug != "place":
            messages.error(request, "This answer needs a change before we can list therapists.")
        return redirect("matching:question", step=step.slug)
    if listing.total and listing.page > listing.pages:
        return redirect(f"{reverse('matching:results')}?page={listing.pages}")
    if listing.page == 1 and listing.matches:
        services.exposure_record(
            therapist_ids=[match.therapist_id for match in listing.matches],
            day=today,
            viewer=_viewer(request, user),
        )
    page = None
    if listing.total:
        paginator = Paginator(range(listing.total), ranking.DEFAULT_PAGE_SIZE)
        page = paginator.get_page(listing.page)
    return render(
        request,
        "matching/results.html",
        {
            "listing": listing,
            "page": page,
            "page_range": (
                page.paginator.get_elided_page_range(page.number) if page is not None else ()
            ),
            "has_answers": not answers.is_empty,
            "signed_in": user is not None,
            "relax_form": RelaxForm(),
        },
    )


@require_POST
def relax(request: HttpRequest) -> HttpResponse:
    """Loosen one hard constraint the results page offered, then rank again."""
    answers, _ = current_answers(request)
    form = RelaxForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That change is not one we can make. Nothing was changed.")
        return redirect("matching:results")
    try:
        # Loosened, then checked like any answer (a retired term must not slip back in).
        checked = answers_from_data(form.apply(answers).to_data(), term_slugs=terms.active_slugs())
    except FitAnswersError:
        messages.error(request, "That change cannot be made to your answers. Nothing was changed.")
        return redirect("matching:results")
    _keep(request, checked)
    messages.success(request, _relaxed_sentence(form.cleaned_data["constraint"]))
    return redirect("matching:results")


def _relaxed_sentence(constraint: str) -> str:
    # Messages may travel in a cookie, so they never repeat an answer.
    if constraint == "radius":
        return "Now looking further away."
    if constraint == "budget":
        return "Now showing therapists beyond your budget too."
    if constraint == "language":
        return "Language is now a preference: therapists who speak it come first."
    return "Now including every way of meeting."


# --- the fit profile --------------------------------------------------------------------------


def answers_in_words(answers: FitAnswers) -> list[dict[str, Any]]:
    """Each question's answer as sentences, with the step that changes it."""
    nothing = "Skipped"
    rows: list[dict[str, Any]] = []

    def row(slug: str, lines: list[str]) -> None:
        rows.append(
            {
                "step": STEP_BY_SLUG[slug],
                "url": _step_url(STEP_BY_SLUG[slug]),
                "lines": [line for line in lines if line] or [nothing],
            }
        )

    concerns = term_names("concern", answers.concerns)
    row("story", [answers.story, f"Concerns: {', '.join(concerns)}" if concerns else ""])
    row("hopes", [answers.hopes])
    genders = dict(GENDER_CHOICES)
    for slug, key in (
        ("gender", PreferenceKey.GENDER),
        ("identity", PreferenceKey.LIVED_EXPERIENCE),
        ("language", PreferenceKey.LANGUAGE),
        ("faith", PreferenceKey.FAITH),
        ("population", PreferenceKey.POPULATION),
        ("affirming", PreferenceKey.LGBTQ2S_AFFIRMING),
    ):
        preference = answers.preference(key)
        if key == PreferenceKey.GENDER:
            values = [genders.get(value, value) for value in preference.values]
        elif key in PREFERENCE_TAXONOMY:
            values = term_names(PREFERENCE_TAXONOMY[key], preference.values)
        else:
            values = []
        lines = [", ".join(values)] if values else []
        if preference.weight or values:
            lines.append(f"How much it matters: {preference.weight.label}")
        if key == PreferenceKey.LANGUAGE and answers.language_required:
            lines.append("Only therapists who speak one of these")
        row(slug, lines)
    style_lines = [
        style_label(name, answers.style[name]) for name in STYLE_FIELDS if name in answers.style
    ]
    if style_lines:
        style_lines.append(f"How much it matters: {answers.style_weight.label}")
    row("style", style_lines)
    row(
        "budget",
        [
            f"Up to {answers.budget_per_session:,} per session"
            if answers.budget_per_session is not None
            else "",
            f"{answers.sessions_affordable} sessions"
            if answers.sessions_affordable is not None
            else "",
        ],
    )
    times = {str(value): label for value, label in AVAILABILITY_LABELS.items()}
    row("availability", [", ".join(times.get(value, value) for value in answers.availability)])
    row("delivery", [", ".join(DELIVERY_LABELS.get(value, value) for value in answers.delivery)])
    row(
        "place",
        [
            answers.place,
            f"Up to {answers.radius_km} km away" if answers.radius_km is not None else "",
        ],
    )
    return rows


def misfits_in_words(answers: FitAnswers) -> list[dict[str, str]]:
    """Each "what did not fit" answer (from re-matching after a past therapist) in words, with
    the value its "Remove" button posts."""
    return [
        {"value": reason, "label": MISFIT_LABELS[MisfitReason(reason)]}
        for reason in answers.did_not_fit
        if reason in set(MisfitReason)
    ]


@require_safe
def profile(request: HttpRequest) -> HttpResponse:
    """Every answer in words, each with a link to change it, and what did not fit with past
    therapists, each with a button to remove it. The owner's own reads are not audited (the
    audit log records who read other people's health data)."""
    answers, stored = current_answers(request)
    return render(
        request,
        "matching/profile.html",
        {
            "rows": answers_in_words(answers),
            "misfits": misfits_in_words(answers) if stored is not None else [],
            "has_answers": not answers.is_empty,
            "stored": stored,
            "signed_in": _signed_in(request) is not None,
        },
    )


@require_POST
def profile_misfit_remove(request: HttpRequest) -> HttpResponse:
    """Remove one "what did not fit" answer from the signed-in person's own profile (there is
    no id to name anyone else's); the reason travels in the POST body, never in the URL."""
    stored = access.own_fit_profile(request.user)
    form = MisfitRemoveForm(request.POST)
    if stored is None or not form.is_valid():
        messages.error(request, "That answer is not one we can remove. Nothing was changed.")
        return redirect("matching:profile")
    services.fit_profile_misfit_remove(profile=stored, reason=form.cleaned_data["reason"])
    # Messages may travel in a cookie, so this one does not repeat the answer.
    messages.success(request, "Removed. Your matches no longer lean away from it.")
    return redirect("matching:profile")


@require_http_methods(["GET", "HEAD", "POST"])
def profile_delete(request: HttpRequest) -> HttpResponse:
    """A confirmation page; the POST deletes the signed-in person's own profile (there is no id
    to name anyone else's), withdraws it from every therapist it was shared with, and forgets
    any copy in the session."""
    stored = access.own_fit_profile(request.user)
    if request.method == "POST":
        if stored is not None:
            services.fit_profile_delete(profile=stored)
        session_answers_forget(request.session)
        messages.success(request, "Your fit profile has been deleted.")
        return redirect("matching:profile")
    return render(
        request,
        "matching/profile_delete.html",
        {"stored": stored, "has_session_copy": has_session_answers(request.session)},
    )
