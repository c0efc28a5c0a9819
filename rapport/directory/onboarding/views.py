"""The therapist's own profile pages (/practice/profile/…): the onboarding steps while the
profile is a draft, and the same pages to edit it afterwards.

Every page is behind the second factor (MFA_REQUIRED_PATH_PREFIXES covers /practice/) and
fetches the profile only through ``access.get_practice_therapist``; plain forms, no script.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rapport.directory.access import (
    can_start_practice,
    get_practice_office,
    get_practice_therapist,
    get_therapist_photo_for_user,
    own_therapist_profile,
)
from rapport.directory.completeness import is_draft, listing_state, profile_completeness
from rapport.directory.forms import FREQUENCY_CHOICES, cost_plan
from rapport.directory.models import (
    STYLE_DIMENSIONS,
    AccessibilityFeature,
    Concern,
    Faith,
    Language,
    LivedExperience,
    Modality,
    Office,
    Population,
    TherapistProfile,
)
from rapport.directory.onboarding import services
from rapport.directory.onboarding.forms import (
    AboutForm,
    ConfirmForm,
    ContactForm,
    FeesForm,
    LicenceForm,
    OfficeForm,
    StartForm,
    StyleForm,
    TopicsForm,
    VisibilityForm,
    WhereForm,
    add_service_errors,
)
from rapport.directory.onboarding.steps import (
    STEPS_BY_SLUG,
    first_incomplete,
    next_step,
    step_rows,
)
from rapport.directory.profile_parts import profile_parts
from rapport.directory.selectors import therapist_main_licence, therapist_profile_preview

_GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _own_profile(request: HttpRequest) -> TherapistProfile:
    return get_practice_therapist(request.user)


def _page(
    request: HttpRequest,
    therapist: TherapistProfile,
    slug: str,
    context: dict[str, Any],
    *,
    template: str = "directory/practice/step.html",
    status: int = 200,
) -> HttpResponse:
    draft = is_draft(therapist)
    completeness = profile_completeness(therapist=therapist)
    return render(
        request,
        template,
        {
            "therapist": therapist,
            "step": STEPS_BY_SLUG[slug],
            "steps": step_rows(therapist, current=slug, completeness=completeness),
            "completeness": completeness,
            "draft": draft,
            **context,
        },
        status=status,
    )


def _after_save(request: HttpRequest, therapist: TherapistProfile, slug: str) -> HttpResponse:
    """Drafts move on to the next step; a submitted profile returns to its overview, where the
    change is already live (or, for licence details, back under review)."""
    therapist.refresh_from_db()
    if is_draft(therapist):
        following = next_step(slug)
        if following is not None:
            return redirect(following.url_name)
        return redirect("directory:practice_profile")
    if slug == "licence" and therapist.verification_status == "pending":
        messages.success(
            request,
            "Saved. Your licence details changed, so your listing is hidden until our team "
            "checks them again.",
        )
    else:
        messages.success(request, "Saved. Your changes are on your profile now.")
    return redirect("directory:practice_profile")


def _form_step(
    request: HttpRequest,
    slug: str,
    *,
    make_form: Callable[[TherapistProfile, QueryDict | None, Any], Any],
    save: Callable[[TherapistProfile, Any], None],
    renamed: dict[str, str] | None = None,
    template: str = "directory/practice/step.html",
    extra: Callable[[TherapistProfile], dict[str, Any]] | None = None,
) -> HttpResponse:
    therapist = _own_profile(request)
    if request.method == "POST":
        form = make_form(therapist, request.POST, request.FILES)
        if form.is_valid():
            try:
                save(therapist, form)
            except ValidationError as error:
                add_service_errors(form, error, renamed)
                form.describe_fields()
            else:
                return _after_save(request, therapist, slug)
        therapist.refresh_from_db()
        context = {"form": form, **(extra(therapist) if extra else {})}
        return _page(request, therapist, slug, context, template=template, status=400)
    form = make_form(therapist, None, None)
    context = {"form": form, **(extra(therapist) if extra else {})}
    return _page(request, therapist, slug, context, template=template)


# --- overview and start -----------------------------------------------------------------------


@login_required
@_GET_POST
def overview(request: HttpRequest) -> HttpResponse:
    """The hub: listing state, the completeness meter and every step to edit. A draft goes
    straight to its first step not done, so a therapist coming back carries on there."""
    therapist = own_therapist_profile(request.user)
    if therapist is None:
        if can_start_practice(request.user):
            return redirect("directory:practice_profile_start")
        raise Http404("No practice here.")
    if request.method == "POST":
        form = VisibilityForm(request.POST)
        if form.is_valid():
            services.therapist_listing_visibility_set(
                therapist=therapist, listed=form.cleaned_data["listed"]
            )
            messages.success(
                request,
                "Your listing is shown again."
                if form.cleaned_data["listed"]
                else "Your listing is hidden. Clients cannot find you until you show it again.",
            )
        return redirect("directory:practice_profile")
    if is_draft(therapist):
        step = first_incomplete(therapist)
        if step is not None:
            return redirect(step.url_name)
    completeness = profile_completeness(therapist=therapist)
    return render(
        request,
        "directory/practice/overview.html",
        {
            "therapist": therapist,
            "steps": step_rows(therapist, completeness=completeness),
            "completeness": completeness,
            "state": listing_state(therapist=therapist),
            "draft": is_draft(therapist),
        },
    )


@login_required
@_GET_POST
def start(request: HttpRequest) -> HttpResponse:
    if own_therapist_profile(request.user) is not None:
        return redirect("directory:practice_profile")
    if not can_start_practice(request.user):
        raise Http404("No practice here.")
    user = request.user
    form = StartForm(
        request.POST if request.method == "POST" else None,
        initial={"display_name": getattr(user, "name", "")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.therapist_draft_create(
                user=user,  # type: ignore[arg-type]
                display_name=form.cleaned_data["display_name"],
                designation=form.cleaned_data["designation"],
                jurisdiction_code=form.cleaned_data["jurisdiction"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            form.describe_fields()
        else:
            return redirect("directory:practice_profile_about")
    return render(
        request,
        "directory/practice/start.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


# --- the steps ---------------------------------------------------------------------------------


@login_required
@_GET_POST
def about(request: HttpRequest) -> HttpResponse:
    def make_form(therapist: TherapistProfile, data: Any, files: Any) -> AboutForm:
        return AboutForm(
            data,
            files,
            initial={
                name: getattr(therapist, name)
                for name in (
                    "display_name",
                    "pronouns",
                    "headline",
                    "about",
                    "approach",
                    "first_session",
                )
            },
        )

    def save(therapist: TherapistProfile, form: AboutForm) -> None:
        data = form.cleaned_data
        services.therapist_about_update(
            therapist=therapist,
            display_name=data["display_name"],
            pronouns=data["pronouns"],
            headline=data["headline"],
            about=data["about"],
            approach=data["approach"],
            first_session=data["first_session"],
            photo=data["photo"],
            remove_photo=data["remove_photo"],
        )

    return _form_step(
        request,
        "about",
        make_form=make_form,
        save=save,
        template="directory/practice/step_about.html",
    )


@login_required
@_GET_POST
def licence(request: HttpRequest) -> HttpResponse:
    def make_form(therapist: TherapistProfile, data: Any, files: Any) -> LicenceForm:
        current = therapist_main_licence(therapist=therapist)
        initial: dict[str, Any] = {"practice_start_year": therapist.practice_start_year}
        if current is not None:
            initial.update(
                jurisdiction=current.jurisdiction_id,
                regulator=current.regulator_id,
                designation=current.designation_id,
                number=current.number,
            )
        else:
            initial["designation"] = therapist.designation_id
        return LicenceForm(data, initial=initial)

    def save(therapist: TherapistProfile, form: LicenceForm) -> None:
        data = form.cleaned_data
        services.therapist_licence_set(
            therapist=therapist,
            jurisdiction_code=data["jurisdiction"],
            regulator=data["regulator"],
            designation=data["designation"],
            number=data["number"],
            practice_start_year=data["practice_start_year"],
        )

    return _form_step(
        request,
        "licence",
        make_form=make_form,
        save=save,
        template="directory/practice/step_licence.html",
        extra=lambda therapist: {"verified": therapist.verification_status == "verified"},
    )


_TOPIC_FIELDS = (
    ("concerns", Concern),
    ("modalities", Modality),
    ("populations", Population),
    ("languages", Language),
    ("lived_experiences", LivedExperience),
    ("faiths", Faith),
)


@login_required
@_GET_POST
def topics(request: HttpRequest) -> HttpResponse:
    def make_form(therapist: TherapistProfile, data: Any, files: Any) -> TopicsForm:
        initial: dict[str, Any] = {
            name: list(getattr(therapist, name).values_list("pk", flat=True))
            for name, _model in _TOPIC_FIELDS
        }
        initial["lgbtq2s_affirming"] = therapist.lgbtq2s_affirming
        initial["gender_category"] = therapist.gender_category
        initial["gender_description"] = therapist.gender_description
        initial["identifies_as_lgbtq2s"] = {True: "yes", False: "no"}.get(
            therapist.identifies_as_lgbtq2s,  # type: ignore[arg-type]
            "",
        )
        initial["cultural_background"] = therapist.cultural_background
        return TopicsForm(data, initial=initial)

    def save(therapist: TherapistProfile, form: TopicsForm) -> None:
        data = form.cleaned_data
        services.therapist_topics_update(
            therapist=therapist,
            concerns=list(data["concerns"]),
            modalities=list(data["modalities"]),
            populations=list(data["populations"]),
            languages=list(data["languages"]),
            lived_experiences=list(data["lived_experiences"]),
            faiths=list(data["faiths"]),
            lgbtq2s_affirming=data["lgbtq2s_affirming"],
            gender_category=data["gender_category"],
            gender_description=data["gender_description"],
            identifies_as_lgbtq2s=data["identifies_as_lgbtq2s"],
            cultural_background=data["cultural_background"],
        )

    return _form_step(request, "topics", make_form=make_form, save=save)


@login_required
@_GET_POST
def style(request: HttpRequest) -> HttpResponse:
    def make_form(therapist: TherapistProfile, data: Any, files: Any) -> StyleForm:
        initial = {name: str(getattr(therapist, name)) for name, _low, _high in STYLE_DIMENSIONS}
        return StyleForm(data, initial=initial)

    def save(therapist: TherapistProfile, form: StyleForm) -> None:
        services.therapist_style_update(
            therapist=therapist,
            placements={name: form.cleaned_data[name] for name, _low, _high in STYLE_DIMENSIONS},
        )

    return _form_step(request, "style", make_form=make_form, save=save)


@login_required
@_GET_POST
def fees(request: HttpRequest) -> HttpResponse:
    def amount(minor: int | None) -> str:
        return "" if not minor and minor != 0 else f"{minor / 100:.2f}"

    def make_form(therapist: TherapistProfile, data: Any, files: Any) -> FeesForm:
        return FeesForm(
            data,
            initial={
                "currency": therapist.currency,
                "fee": amount(therapist.fee_minor) if therapist.fee_minor else "",
                "sliding_scale_min": amount(therapist.sliding_scale_min_minor),
                "accepts_insurance": therapist.accepts_insurance,
                "direct_billing": therapist.direct_billing,
                "insurance_note": therapist.insurance_note,
                "session_minutes": therapist.session_minutes,
                "consultation_minutes": therapist.consultation_minutes,
            },
        )

    def save(therapist: TherapistProfile, form: FeesForm) -> None:
        data = form.cleaned_data
        services.therapist_fees_update(
            therapist=therapist,
            fee_minor=form.fee_minor,
            currency=data["currency"],
            sliding_scale_min_minor=form.sliding_scale_min_minor,
            accepts_insurance=data["accepts_insurance"],
            direct_billing=data["direct_billing"],
            insurance_note=data["insurance_note"],
            session_minutes=data["session_minutes"],
            consultation_minutes=data["consultation_minutes"],
        )

    return _form_step(request, "fees", make_form=make_form, save=save, renamed=FeesForm.FIELD_NAMES)


def _offices(therapist: TherapistProfile) -> list[Office]:
    return list(
        therapist.offices.select_related("jurisdiction")
        .prefetch_related(
            Prefetch(
                "accessibility_features",
                queryset=AccessibilityFeature.objects.order_by("sort_order", "name"),
            )
        )
        .order_by("id")
    )


def _office_initial(office: Office) -> dict[str, Any]:
    return {
        "label": office.label,
        "street_address": office.street_address,
        "city": office.city,
        "jurisdiction": office.jurisdiction_id,
        "postal_code": office.postal_code,
        "accessibility_features": list(office.accessibility_features.values_list("pk", flat=True)),
        "accessibility_note": office.accessibility_note,
    }


def _office_fields(form: OfficeForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "label": data["label"],
        "street_address": data["street_address"],
        "city": data["city"],
        "jurisdiction_code": data["jurisdiction"],
        "postal_code": data["postal_code"],
        "accessibility_features": list(data["accessibility_features"]),
        "accessibility_note": data["accessibility_note"],
    }


_OFFICE_RENAMED = {"jurisdiction_code": "jurisdiction"}


@login_required
@_GET_POST
def where(request: HttpRequest) -> HttpResponse:
    """Ways of meeting and the time zone (the step's own form), and the offices: an office is
    added by a second form on the same page (``?office`` in the post), located offline."""
    therapist = _own_profile(request)
    home_region = (
        therapist.licences.order_by("id").values_list("jurisdiction_id", flat=True).first() or ""
    )
    office_form = OfficeForm(prefix="office", initial={"jurisdiction": home_region})
    where_form = WhereForm(
        current_zone=therapist.time_zone,
        initial={
            "offers_in_person": therapist.offers_in_person,
            "offers_video": therapist.offers_video,
            "offers_phone": therapist.offers_phone,
            "time_zone": therapist.time_zone,
        },
    )
    status = 200
    if request.method == "POST" and "add_office" in request.POST:
        office_form = OfficeForm(request.POST, prefix="office")
        if office_form.is_valid():
            try:
                services.office_add(therapist=therapist, **_office_fields(office_form))
            except ValidationError as error:
                add_service_errors(office_form, error, _OFFICE_RENAMED)
                office_form.describe_fields()
            else:
                messages.success(request, "Office added.")
                return redirect("directory:practice_profile_where")
        status = 400
        therapist.refresh_from_db()
    elif request.method == "POST":
        where_form = WhereForm(request.POST, current_zone=therapist.time_zone)
        if where_form.is_valid():
            data = where_form.cleaned_data
            try:
                services.therapist_delivery_update(
                    therapist=therapist,
                    offers_in_person=data["offers_in_person"],
                    offers_video=data["offers_video"],
                    offers_phone=data["offers_phone"],
                    time_zone=data["time_zone"],
                )
            except ValidationError as error:
                add_service_errors(where_form, error)
                where_form.describe_fields()
            else:
                return _after_save(request, therapist, "where")
        status = 400
        therapist.refresh_from_db()
    return _page(
        request,
        therapist,
        "where",
        {"form": where_form, "office_form": office_form, "offices": _offices(therapist)},
        template="directory/practice/step_where.html",
        status=status,
    )


@login_required
@_GET_POST
def office_edit(request: HttpRequest, office_id: int) -> HttpResponse:
    office = get_practice_office(request.user, office_id)
    therapist = _own_profile(request)
    form = OfficeForm(
        request.POST if request.method == "POST" else None, initial=_office_initial(office)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.office_update(office=office, **_office_fields(form))
        except ValidationError as error:
            add_service_errors(form, error, _OFFICE_RENAMED)
            form.describe_fields()
        else:
            messages.success(request, "Office saved.")
            return redirect("directory:practice_profile_where")
    return _page(
        request,
        therapist,
        "where",
        {"form": form, "office": office},
        template="directory/practice/office_edit.html",
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def office_remove(request: HttpRequest, office_id: int) -> HttpResponse:
    office = get_practice_office(request.user, office_id)
    try:
        services.office_remove(office=office)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Office removed.")
    return redirect("directory:practice_profile_where")


@login_required
@_GET_POST
def contact(request: HttpRequest) -> HttpResponse:
    def make_form(therapist: TherapistProfile, data: Any, files: Any) -> ContactForm:
        return ContactForm(
            data,
            initial={
                "between_session_contact": therapist.between_session_contact,
                "reply_within_hours": therapist.reply_within_hours,
                "contact_hours": therapist.contact_hours,
            },
        )

    def save(therapist: TherapistProfile, form: ContactForm) -> None:
        data = form.cleaned_data
        services.therapist_contact_policy_update(
            therapist=therapist,
            between_session_contact=data["between_session_contact"],
            reply_within_hours=data["reply_within_hours"],
            contact_hours=data["contact_hours"],
        )

    return _form_step(request, "contact", make_form=make_form, save=save)


def _elsewhere_step(request: HttpRequest, slug: str) -> HttpResponse:
    """Availability and video answers are set on their own apps' pages (linked from the project
    template practice/_elsewhere.html); this page says so and lets the therapist move on."""

    def make_form(therapist: TherapistProfile, data: Any, files: Any) -> ConfirmForm:
        return ConfirmForm(data)

    def save(therapist: TherapistProfile, form: ConfirmForm) -> None:
        services.therapist_step_mark_saved(therapist=therapist, step=slug)

    return _form_step(
        request,
        slug,
        make_form=make_form,
        save=save,
        template=f"directory/practice/step_{slug}.html",
    )


@login_required
@_GET_POST
def availability(request: HttpRequest) -> HttpResponse:
    return _elsewhere_step(request, "availability")


@login_required
@_GET_POST
def videos(request: HttpRequest) -> HttpResponse:
    return _elsewhere_step(request, "videos")


@login_required
@_GET_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The public profile page's own template, filled with this profile as clients will see
    it once it is live."""
    therapist = _own_profile(request)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.therapist_step_mark_saved(therapist=therapist, step="preview")
        return _after_save(request, therapist, "preview")
    now = timezone.now()
    shown = therapist_profile_preview(therapist=therapist, now=now)
    if shown.accepting_confirmed_at is None:
        # Not saved: sending the profile for review confirms "accepting" as of that moment.
        shown.accepting_confirmed_at = now
    return render(
        request,
        "directory/practice/preview.html",
        {
            "therapist": shown,
            "now": now,
            "plan": cost_plan(therapist=shown, params=QueryDict()),
            "parts": profile_parts(request=request, therapist=shown),
            "is_shortlisted": False,
            "frequency_choices": FREQUENCY_CHOICES,
            "form": form,
            "draft": is_draft(therapist),
            "steps": step_rows(therapist, current="preview"),
        },
    )


@login_required
@_GET_POST
def submit(request: HttpRequest) -> HttpResponse:
    therapist = _own_profile(request)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.therapist_submit_for_review(therapist=therapist)
        except ValidationError as error:
            add_service_errors(form, error)
            status = 400
        else:
            messages.success(
                request,
                "Thank you. Your profile is with our team, who check your licence on your "
                "regulator's public register; we will e-mail you when it is done.",
            )
            return redirect("directory:practice_profile")
    return _page(
        request,
        therapist,
        "submit",
        {"form": form},
        template="directory/practice/step_submit.html",
        status=status,
    )


# --- the photo ----------------------------------------------------------------------------------


@require_safe
def therapist_photo(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    """A therapist's photo, with the listing's access rules (``access``): kept in private
    storage, so this view is the only way to it. Local files are sent from here; an object
    store answers a short-lived signed address."""
    therapist = get_therapist_photo_for_user(request.user, public_id, now=timezone.now())
    storage = therapist.photo.storage
    name = therapist.photo.name or ""
    try:
        path = storage.path(name)
    except NotImplementedError:
        response: HttpResponseBase = HttpResponseRedirect(storage.url(name))
    else:
        try:
            response = FileResponse(open(path, "rb"), content_type="image/jpeg")  # noqa: SIM115
        except FileNotFoundError:
            raise Http404("No such photo.") from None
    # Who may see it can change (a listing hidden, a licence refused): caches keep it briefly,
    # and only the browser's own.
    response["Cache-Control"] = "private, max-age=300"
    return response
