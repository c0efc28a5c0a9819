"""Care pages: the client's engagements (/care/) and the therapist's clients
(/practice/clients/, behind the second factor by its prefix).

Every action is a POST that redirects back to the page; a refused one shows the page again with
the error beside the field (status 400) and writes nothing. Goal texts appear only in page
bodies, never in URLs, and every page that shows them records the read.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from rapport.accounts.models import User
from rapport.care import access, hooks, selectors, services, signals, trends
from rapport.care.forms import (
    AgreeForm,
    GoalsForm,
    InviteForm,
    ProposalForm,
    ReasonForm,
    SessionForm,
    SessionMarkForm,
    SharingForm,
)
from rapport.care.models import (
    CLOSED_STATUSES,
    MAX_GOALS,
    Engagement,
    EngagementStatus,
    Goal,
    SessionStatus,
    Side,
)
from rapport.care.views import results
from rapport.core.audit import audit_reads
from rapport.core.timezones import moment_label
from rapport.directory.access import get_practice_therapist


def _service_errors(form: Form, error: ValidationError) -> None:
    """Put a service's refusal beside the field it names, or above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
    if hasattr(form, "describe_fields"):
        form.describe_fields()


def _goal(engagement: Engagement, position: int) -> Goal:
    goal = engagement.goals.filter(position=position).first()
    if goal is None:
        raise Http404("No such goal.")
    return goal


def _sessions(engagement: Engagement, zone: zoneinfo.ZoneInfo) -> list[dict[str, Any]]:
    return [
        {"session": session, "label": moment_label(session.starts_at, zone)}
        for session in engagement.sessions.all()
    ]


def _shown_goals(request: HttpRequest, engagement: Engagement) -> list[Goal]:
    goals = list(engagement.goals.all())
    audit_reads(request=request, instances=[engagement, *goals], reason="engagement page")
    return goals


# --- the client -------------------------------------------------------------------------------


def _client(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # guaranteed by login_required
    return request.user


@login_required
@require_safe
def client_home(request: HttpRequest) -> HttpResponse:
    user = _client(request)
    return render(
        request,
        "care/client_home.html",
        {
            "engagements": selectors.client_engagements(user=user),
            "invitations": selectors.client_pending_invitations(user=user),
            "check_ins_due": selectors.client_check_ins_due(user=user, now=timezone.now()),
        },
    )


@login_required
@require_POST
def client_invitation_accept(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    invitation = access.get_invitation_for_client(request.user, public_id)
    try:
        engagement = services.engagement_invitation_accept(invitation=invitation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("care:client_home")
    messages.success(request, f"You are now working with {invitation.therapist.display_name}.")
    return redirect("care:client_engagement", public_id=engagement.public_id)


@login_required
@require_POST
def client_invitation_decline(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    invitation = access.get_invitation_for_client(request.user, public_id)
    try:
        services.engagement_invitation_decline(invitation=invitation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Invitation declined. Your therapist is not told why.")
    return redirect("care:client_home")


def _client_page(
    request: HttpRequest,
    engagement: Engagement,
    *,
    goals_form: GoalsForm | None = None,
    sharing_form: SharingForm | None = None,
    end_form: ReasonForm | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    goals = _shown_goals(request, engagement)
    initial = {f"goal_{goal.position}": goal.text for goal in goals}
    zone = zoneinfo.ZoneInfo(engagement.therapist.time_zone)
    return render(
        request,
        "care/client_engagement.html",
        {
            "engagement": engagement,
            "is_open": engagement.is_open,
            "goals": goals,
            "sessions": _sessions(engagement, zone),
            "goals_form": goals_form or GoalsForm(initial=initial),
            "sharing_form": sharing_form or SharingForm(initial={"sharing": engagement.sharing}),
            "end_form": end_form or ReasonForm(),
            "problem": problem,
            "max_goals": MAX_GOALS,
            "open_check_in": selectors.engagement_open_check_in(
                engagement=engagement, now=timezone.now()
            ),
            # Ended as not the right fit: the way back to re-matching (a higher app's page).
            "rematch_url": hooks.not_right_fit_step_url(engagement=engagement),
        },
        status=status,
    )


@login_required
@require_safe
def client_engagement(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = access.get_engagement_for_client(request.user, public_id)
    return _client_page(request, engagement)


@login_required
@require_POST
def client_goals(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = access.get_engagement_for_client(request.user, public_id)
    form = GoalsForm(request.POST)
    if form.is_valid():
        try:
            services.goals_set(engagement=engagement, texts=form.texts())
        except ValidationError as error:
            _service_errors(form, error)
        else:
            messages.success(request, "Your goals are saved.")
            return redirect("care:client_engagement", public_id=public_id)
    return _client_page(request, engagement, goals_form=form, status=400)


def _refused(request: HttpRequest, engagement: Engagement, error: ValidationError) -> HttpResponse:
    return _client_page(request, engagement, problem=" ".join(error.messages), status=400)


@login_required
@require_POST
def client_goal_agree(request: HttpRequest, public_id: uuid.UUID, position: int) -> HttpResponse:
    engagement = access.get_engagement_for_client(request.user, public_id)
    goal = _goal(engagement, position)
    form = AgreeForm(request.POST)
    if not form.is_valid():
        return _client_page(request, engagement, problem="Read the goal again.", status=400)
    try:
        services.goal_agree(goal=goal, by=Side.CLIENT, expected_text=form.cleaned_data["text"])
    except ValidationError as error:
        return _refused(request, engagement, error)
    messages.success(request, f"You agreed to goal {position}.")
    return redirect("care:client_engagement", public_id=public_id)


@login_required
@require_POST
def client_goal_take(request: HttpRequest, public_id: uuid.UUID, position: int) -> HttpResponse:
    engagement = access.get_engagement_for_client(request.user, public_id)
    goal = _goal(engagement, position)
    try:
        services.goal_proposal_take(goal=goal)
    except ValidationError as error:
        return _refused(request, engagement, error)
    messages.success(request, f"Goal {position} now uses the suggested wording.")
    return redirect("care:client_engagement", public_id=public_id)


@login_required
@require_POST
def client_sharing(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = access.get_engagement_for_client(request.user, public_id)
    form = SharingForm(request.POST)
    if form.is_valid():
        services.sharing_set(engagement=engagement, sharing=form.cleaned_data["sharing"])
        messages.success(request, "Your choice is saved.")
        return redirect("care:client_engagement", public_id=public_id)
    return _client_page(request, engagement, sharing_form=form, status=400)


@login_required
@require_POST
def client_end(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = access.get_engagement_for_client(request.user, public_id)
    return _end(request, engagement, Side.CLIENT, "care:client_engagement", _client_page)


# --- the therapist ----------------------------------------------------------------------------


@require_safe
def practice_clients(request: HttpRequest) -> HttpResponse:
    return _clients_page(request)


def _clients_page(
    request: HttpRequest, *, invite_form: InviteForm | None = None, status: int = 200
) -> HttpResponse:
    therapist = get_practice_therapist(request.user)
    # Only the columns the list shows: a practice may hold hundreds of clients.
    engagements = list(
        selectors.therapist_engagements(therapist=therapist).only(
            "public_id",
            "status",
            "sharing",
            "trend_summary",
            "started_at",
            "ended_at",
            "therapist_id",
            "client__name",
            "client__email",
        )
    )
    open_engagements = [e for e in engagements if e.status not in CLOSED_STATUSES]
    # How each current client is doing, in a fixed number of queries (rapport.care.trends);
    # the scores shown are health data: one recorded read per client whose scores are shown
    # (one per check-in was most of the page's time with hundreds of clients).
    client_trends = trends.client_trends(engagements=open_engagements)
    audit_reads(
        request=request,
        instances=[e for e in open_engagements if client_trends[e.pk].check_ins_read],
        reason="check-in scores on the client list",
    )
    return render(
        request,
        "care/practice_clients.html",
        {
            "open_engagements": open_engagements,
            "closed_engagements": [e for e in engagements if e.status in CLOSED_STATUSES],
            "open_rows": results.client_rows(open_engagements, client_trends),
            "waiting": selectors.therapist_first_sessions_waiting(therapist=therapist),
            "invitations": selectors.therapist_pending_invitations(therapist=therapist),
            "invite_form": invite_form or InviteForm(),
            # In aggregate over at least 5 clients (rapport.care.signals): no client's data.
            "signals": signals.therapist_alliance_signals_shown(therapist=therapist),
        },
        status=status,
    )


@require_POST
def practice_invite(request: HttpRequest) -> HttpResponse:
    therapist = get_practice_therapist(request.user)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            services.engagement_invite(therapist=therapist, email=form.cleaned_data["email"])
        except ValidationError as error:
            _service_errors(form, error)
        else:
            messages.success(request, "Invitation sent: your client sees it on their care page.")
            return redirect("care:practice_clients")
    return _clients_page(request, invite_form=form, status=400)


@require_POST
def practice_start_waiting(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    therapist = get_practice_therapist(request.user)
    session = access.get_first_session_for_therapist(therapist, public_id)
    try:
        engagement = services.engagement_start_after_first_session(session=session)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("care:practice_clients")
    return redirect("care:practice_client", public_id=engagement.public_id)


def _practice_page(
    request: HttpRequest,
    engagement: Engagement,
    *,
    session_form: SessionForm | None = None,
    end_form: ReasonForm | None = None,
    failed_proposal: tuple[int, ProposalForm] | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    goals = _shown_goals(request, engagement)
    zone = zoneinfo.ZoneInfo(engagement.therapist.time_zone)
    rows = []
    for goal in goals:
        form = ProposalForm(
            prefix=f"goal-{goal.position}", initial={"proposed_text": goal.proposed_text}
        )
        if failed_proposal is not None and failed_proposal[0] == goal.position:
            form = failed_proposal[1]
        rows.append({"goal": goal, "proposal_form": form})
    return render(
        request,
        "care/practice_client.html",
        {
            "engagement": engagement,
            "is_open": engagement.is_open,
            "goal_rows": rows,
            "sessions": _sessions(engagement, zone),
            "session_form": session_form or SessionForm(),
            "mark_form": SessionMarkForm(),
            "end_form": end_form or ReasonForm(),
            "problem": problem,
            "scheduled": SessionStatus.SCHEDULED,
            "can_pause": engagement.status == EngagementStatus.ONGOING,
            "can_resume": engagement.status == EngagementStatus.PAUSED,
            "can_graduate": engagement.status
            in (EngagementStatus.ONGOING, EngagementStatus.PAUSED),
            # Open alerts and the latest scores as shared (alerts, check_ins_trend).
            **results.practice_client_context(request, engagement),
        },
        status=status,
    )


@require_safe
def practice_client(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = access.get_engagement_for_therapist(request.user, public_id)
    return _practice_page(request, engagement)


@require_POST
def practice_session_record(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = access.get_engagement_for_therapist(request.user, public_id)
    form = SessionForm(request.POST)
    if form.is_valid():
        zone = zoneinfo.ZoneInfo(engagement.therapist.time_zone)
        starts_at = dt.datetime.combine(
            form.cleaned_data["date"], form.cleaned_data["time"], tzinfo=zone
        )
        try:
            services.session_record(
                engagement=engagement,
                starts_at=starts_at,
                status=form.cleaned_data["status"],
                recorded_by=engagement.therapist.user,
            )
        except ValidationError as error:
            _service_errors(form, error)
            if "starts_at" in getattr(error, "message_dict", {}):
                form.add_error("date", error.message_dict["starts_at"])
        else:
            messages.success(request, "Session recorded.")
            return redirect("care:practice_client", public_id=public_id)
    return _practice_page(request, engagement, session_form=form, status=400)


@require_POST
def practice_session_mark(
    request: HttpRequest, public_id: uuid.UUID, session_id: uuid.UUID
) -> HttpResponse:
    engagement = access.get_engagement_for_therapist(request.user, public_id)
    session = access.get_session_for_therapist(engagement, session_id)
    form = SessionMarkForm(request.POST)
    if not form.is_valid():
        return _practice_page(
            request, engagement, problem="Choose how the session went.", status=400
        )
    try:
        services.session_mark(
            session=session,
            status=form.cleaned_data["status"],
            recorded_by=engagement.therapist.user,
        )
    except ValidationError as error:
        return _practice_page(request, engagement, problem=" ".join(error.messages), status=400)
    messages.success(request, "Session recorded.")
    return redirect("care:practice_client", public_id=public_id)


@require_POST
def practice_goal_propose(
    request: HttpRequest, public_id: uuid.UUID, position: int
) -> HttpResponse:
    engagement = access.get_engagement_for_therapist(request.user, public_id)
    goal = _goal(engagement, position)
    form = ProposalForm(request.POST, prefix=f"goal-{position}")
    if form.is_valid():
        try:
            services.goal_propose(goal=goal, text=form.cleaned_data["proposed_text"])
        except ValidationError as error:
            _service_errors(form, error)
        else:
            messages.success(request, f"Your wording for goal {position} is saved.")
            return redirect("care:practice_client", public_id=public_id)
    return _practice_page(request, engagement, failed_proposal=(position, form), status=400)


@require_POST
def practice_goal_agree(request: HttpRequest, public_id: uuid.UUID, position: int) -> HttpResponse:
    engagement = access.get_engagement_for_therapist(request.user, public_id)
    goal = _goal(engagement, position)
    form = AgreeForm(request.POST)
    if not form.is_valid():
        return _practice_page(request, engagement, problem="Read the goal again.", status=400)
    try:
        services.goal_agree(goal=goal, by=Side.THERAPIST, expected_text=form.cleaned_data["text"])
    except ValidationError as error:
        return _practice_page(request, engagement, problem=" ".join(error.messages), status=400)
    messages.success(request, f"You agreed to goal {position}.")
    return redirect("care:practice_client", public_id=public_id)


def _lifecycle(request: HttpRequest, public_id: uuid.UUID, change: Any, done: str) -> HttpResponse:
    engagement = access.get_engagement_for_therapist(request.user, public_id)
    try:
        change(engagement)
    except ValidationError as error:
        return _practice_page(request, engagement, problem=" ".join(error.messages), status=400)
    messages.success(request, done)
    return redirect("care:practice_client", public_id=public_id)


@require_POST
def practice_pause(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _lifecycle(
        request,
        public_id,
        lambda e: services.engagement_pause(engagement=e, by=Side.THERAPIST),
        "The engagement is paused.",
    )


@require_POST
def practice_resume(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _lifecycle(
        request,
        public_id,
        lambda e: services.engagement_resume(engagement=e, by=Side.THERAPIST),
        "The engagement is ongoing again.",
    )


@require_POST
def practice_end(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = access.get_engagement_for_therapist(request.user, public_id)
    return _end(request, engagement, Side.THERAPIST, "care:practice_client", _practice_page)


def _end(
    request: HttpRequest, engagement: Engagement, side: str, done: str, page: Any
) -> HttpResponse:
    """Either side ends the engagement with their reason; ``page`` shows the form again."""
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.engagement_end(
                engagement=engagement, by=side, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _service_errors(form, error)
        else:
            messages.success(request, "The engagement has ended.")
            return redirect(done, public_id=engagement.public_id)
    return page(request, engagement, end_form=form, status=400)
