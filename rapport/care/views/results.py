"""The therapist seeing a client's check-ins as the client shares them, and acting on alerts.

What the therapist sees of the answers is decided in one place (``history.for_therapist``):
the client's item answers and scores, the scores only, or nothing. A crisis alert is shown
whatever the sharing, without content: that a check-in needs attention, and when it came. It
is acknowledged with a note of what the therapist did (an alert is never silently dismissed).
Every page that shows check-ins or alerts records the read.
"""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts.models import User
from rapport.care import (
    access,
    charts,
    history,
    progress,
    repair,
    selectors,
    services,
    trends,
)
from rapport.care.models import MAX_REASON_LENGTH, Alert, Engagement, EngagementStatus, Sharing
from rapport.core.audit import audit_read, audit_reads
from rapport.core.forms import AccessibleForm
from rapport.core.timezones import moment_day_label, moment_label
from rapport.directory.models import TherapistProfile

NOT_ANSWERED = "not answered"


class AcknowledgeForm(AccessibleForm):
    note = forms.CharField(
        label="What did you do?",
        max_length=MAX_REASON_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required: for example, that you called your client and what you agreed. "
        "Kept encrypted with the alert; it is about your client, so it is in their data export.",
        error_messages={"required": "Say briefly what you did."},
    )


def _form_prefix(alert: Alert) -> str:
    # One form per alert on a page: the prefix keeps their field ids apart.
    return f"alert-{alert.public_id.hex}"


def _client_name(engagement: Engagement) -> str:
    return engagement.client.name or engagement.client.email


def _zone(engagement: Engagement) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(engagement.therapist.time_zone)


@dataclass(frozen=True)
class AlertRow:
    alert: Alert
    title: str  # what it is, in a few words (rapport.care.repair)
    suggestion: str  # what the therapist might try
    received: str
    form: AcknowledgeForm


def _open_alerts(engagement: Engagement) -> list[Alert]:
    return list(
        selectors.therapist_open_alerts(therapist=engagement.therapist).filter(
            engagement=engagement
        )
    )


def _alert_rows(request: HttpRequest, engagement: Engagement) -> list[AlertRow]:
    """The engagement's open alerts, each with its acknowledge form (the read recorded)."""
    alerts = _open_alerts(engagement)
    audit_reads(request=request, instances=alerts, reason="open alerts")
    zone = _zone(engagement)
    return [
        AlertRow(
            alert=alert,
            title=repair.alert_title(alert),
            suggestion=repair.alert_suggestion(alert),
            received=moment_label(alert.created_at, zone),
            form=AcknowledgeForm(prefix=_form_prefix(alert)),
        )
        for alert in alerts
    ]


def practice_client_context(request: HttpRequest, engagement: Engagement) -> dict[str, Any]:
    """What the therapist's client page shows of check-ins: the open alerts at the top and a
    summary of the latest scores as shared (``views.engagements._practice_page``)."""
    trend = trends.client_trends(engagements=[engagement])[engagement.pk]
    if trend.check_ins_read:
        audit_read(request=request, instance=engagement, reason="check-in scores summary")
    return {
        "alerts": _alert_rows(request, engagement),
        "check_ins_trend": trend,
    }


@dataclass(frozen=True, slots=True)
class ScoreCell:
    score: str  # "2 — Worth talking about together"
    words: str  # "Lower than the one before (4)"


@dataclass(frozen=True, slots=True)
class ClientRow:
    """One current client on the client list, every value ready to print: with hundreds of
    rows, reversing addresses, formatting dates and walking the trend in the template cost
    more than all the rest."""

    name: str
    url: str
    since: str
    alert: str  # what the marker says ("" without an open alert)
    shared: bool
    alliance: ScoreCell | None
    progress: ScoreCell | None


def _score_cell(trend: trends.ScoreTrend | None) -> ScoreCell | None:
    if trend is None:
        return None
    score = trend.latest_label
    if trend.latest is not None and trend.band:
        score += f" — {trend.band}"
    return ScoreCell(score=score, words=trend.words[:1].upper() + trend.words[1:])


_ANY_ID = uuid.UUID(int=0)


def client_rows(
    engagements: list[Engagement], client_trends: dict[int, trends.ClientTrend]
) -> list[ClientRow]:
    pattern = reverse("care:practice_client", args=[_ANY_ID])
    statuses = dict(EngagementStatus.choices)
    # As the template's date filter shows dates: in the current time zone.
    zone = timezone.get_current_timezone()
    rows = []
    for engagement in engagements:
        trend = client_trends[engagement.pk]
        rows.append(
            ClientRow(
                name=_client_name(engagement),
                url=pattern.replace(str(_ANY_ID), str(engagement.public_id)),
                since=f"{statuses[engagement.status]}, since "
                f"{moment_day_label(engagement.started_at, zone)}",
                alert="a check-in needs your attention"
                if trend.crisis
                else "a check-in's scores need your attention"
                if trend.alert
                else "",
                shared=trend.shared,
                alliance=_score_cell(trend.alliance),
                progress=_score_cell(trend.progress),
            )
        )
    return rows


# --- the check-ins page ---------------------------------------------------------------------


def _score_text(scale: history.ScaleValue) -> str:
    text = trends.number_label(scale.value)
    if scale.value is not None and scale.band:
        text += f" — {scale.band}"
    if scale.prorated and scale.value is not None:
        text += " (estimated: a question was skipped)"
    return text


def _part_cell(part: history.PartRecord | None) -> dict[str, Any] | None:
    if part is None:
        return None
    return {
        "total": _score_text(part.total),
        "subscales": [
            f"{scale.label} {trends.number_label(scale.value)}" for scale in part.subscales
        ],
        "flagged": part.critical_flagged,
    }


def _answer_rows(part: history.PartRecord) -> list[tuple[str, str]]:
    """Each question and the answer's label, in the questionnaire's order."""
    assert part.answers is not None
    rows = []
    for item in part.instrument.items:
        value = part.answers.get(item.id)
        if value is None:
            label = NOT_ANSWERED
        else:
            try:
                label = item.label_for(value)
            except KeyError:
                label = str(value)
        rows.append((item.text, label))
    return rows


def _check_in_rows(
    records: list[history.CheckInRecord], zone: zoneinfo.ZoneInfo, *, with_answers: bool
) -> list[dict[str, Any]]:
    """One row per check-in, newest first."""
    rows = []
    for record in reversed(records):
        rows.append(
            {
                "label": progress.check_in_label(record),
                "answered": moment_label(record.completed_at, zone),
                "fit": _part_cell(record.part("fit")),
                "alliance": _part_cell(record.part("alliance")),
                "progress": _part_cell(record.part("progress")),
                "goals": [
                    {
                        "position": rating.position,
                        "text": rating.text,
                        "rating": NOT_ANSWERED if rating.rating is None else f"{rating.rating}/10",
                    }
                    for rating in record.goal_ratings
                ],
                "answers": [
                    {"title": part.instrument.title, "rows": _answer_rows(part)}
                    for part in record.parts
                    if part.answers is not None
                ]
                if with_answers
                else [],
            }
        )
    return rows


def _charts(records: list[history.CheckInRecord]) -> list[charts.ChartContext]:
    drawn = [
        ("alliance", progress.alliance_chart(records)),
        ("progress", progress.progress_chart(records)),
        ("goals", progress.goals_chart(records)),
    ]
    return [charts.chart_context(chart, id_prefix=name) for name, chart in drawn if chart]


@require_safe
def practice_check_ins(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    engagement = access.get_engagement_for_therapist(request.user, public_id)
    records = history.for_therapist(engagement=engagement)
    audit_reads(request=request, instances=history.rows_read(records), reason="shared check-ins")
    with_answers = engagement.sharing == Sharing.ITEM_ANSWERS
    return render(
        request,
        "care/practice_check_ins.html",
        {
            "engagement": engagement,
            "client_name": _client_name(engagement),
            "alerts": _alert_rows(request, engagement),
            "private": engagement.sharing == Sharing.NOTHING,
            "with_answers": with_answers,
            "charts": _charts(records),
            "rows": _check_in_rows(records, _zone(engagement), with_answers=with_answers),
        },
    )


# --- acknowledging an alert -----------------------------------------------------------------


def _acknowledge_page(
    request: HttpRequest,
    alert: Alert,
    *,
    form: AcknowledgeForm | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    audit_read(request=request, instance=alert, reason="alert")
    zone = _zone(alert.engagement)
    return render(
        request,
        "care/practice_alert_acknowledge.html",
        {
            "alert": alert,
            "engagement": alert.engagement,
            "client_name": _client_name(alert.engagement),
            "title": repair.alert_title(alert),
            "suggestion": repair.alert_suggestion(alert),
            "received": moment_label(alert.created_at, zone),
            "acknowledged": moment_label(alert.acknowledged_at, zone)
            if alert.acknowledged_at
            else "",
            "form": form or AcknowledgeForm(prefix=_form_prefix(alert)),
            "problem": problem,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def practice_alert_acknowledge(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The form alone (GET), or the acknowledgement the client page's form sends (POST). A
    refused note comes back here with its error beside the field, and nothing is written."""
    alert = access.get_alert_for_therapist(request.user, public_id)
    if request.method == "GET":
        return _acknowledge_page(request, alert)
    form = AcknowledgeForm(request.POST, prefix=_form_prefix(alert))
    if form.is_valid():
        user = request.user
        assert isinstance(user, User)  # the access helper let only a signed-in therapist in
        try:
            alert = services.alert_acknowledge(alert=alert, by=user, note=form.cleaned_data["note"])
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                form.add_error("note", error.message_dict.get("note", error.messages))
                form.describe_fields()
            else:
                alert.refresh_from_db()
                return _acknowledge_page(
                    request, alert, form=form, problem=" ".join(error.messages), status=409
                )
        else:
            messages.success(request, "Alert acknowledged. Your note is kept with it.")
            return redirect("care:practice_client", public_id=alert.engagement.public_id)
    return _acknowledge_page(request, alert, form=form, status=400)


# --- the practice dashboard's part (registered in CareConfig.ready()) ----------------------


def dashboard_alerts(request: HttpRequest, therapist: TherapistProfile) -> str:
    """Open alerts on the practice home, without content: who, and when it came. Nothing when
    there are none (the dashboard then says nothing needs attention)."""
    alerts = list(selectors.therapist_open_alerts(therapist=therapist))
    if not alerts:
        return ""
    audit_reads(request=request, instances=alerts, reason="dashboard alerts")
    zone = zoneinfo.ZoneInfo(therapist.time_zone)
    return render_to_string(
        "care/_dashboard_alerts.html",
        {
            "rows": [
                {
                    "alert": alert,
                    "client_name": _client_name(alert.engagement),
                    "received": moment_label(alert.created_at, zone),
                }
                for alert in alerts
            ]
        },
        request=request,
    )
