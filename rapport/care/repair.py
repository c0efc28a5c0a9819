"""What an alert suggests the therapist try: short, specific and gentle, written for Rapport.

An alliance alert's suggestion follows its weakest subscale — the bond (how it feels to be in
the room together), the goals (agreeing on what the work is for) or the tasks (agreeing on how
to get there). A definition whose subscales have other ids gets the general suggestion.
These are prompts for a clinician's judgement, not instructions.
"""

from __future__ import annotations

from rapport.care.models import Alert, AlertKind

_ALLIANCE = {
    "bond": (
        "The bond looks weakest. At the start of the next session, ask how the sessions have "
        "felt to be in, not only what you talked about — for example, “Has anything about how "
        "we work together been hard to say?” Let them know you would rather hear it than not, "
        "and thank them when they tell you."
    ),
    "goals": (
        "Agreement on goals looks weakest. Revisit their goals together, in their own words: "
        "are these still what matters most? Ask whether the sessions feel aimed at what they "
        "came for, and agree on what to focus on next."
    ),
    "tasks": (
        "Agreement on how you work looks weakest. Check how your approach lands: does the way "
        "you spend sessions make sense to them, and is anything between sessions helping? "
        "Offer a real choice about how to use the next session."
    ),
}
_ALLIANCE_GENERAL = (
    "Make room early in the next session to ask how therapy is going for them, and listen "
    "without explaining or defending. A rupture named and worked through often strengthens "
    "the work."
)

_SUGGESTIONS = {
    AlertKind.CRISIS: (
        "A safety question was answered at or above its threshold. Reach out to the client "
        "today as your practice's safety procedures describe; the client was shown crisis "
        "lines at once."
    ),
    AlertKind.GOAL_STUCK: (
        "This goal has been rated as going nowhere twice in a row. Look at it together: is it "
        "still the right goal, is it too big to move in a week or two, and what small step "
        "would show movement? Rewording it together is fine."
    ),
    AlertKind.PROGRESS_OFF_TRACK: (
        "Progress is off track: worse than at the start beyond what chance explains, or not "
        "reliably better by the 6th session. Review the plan together — what has changed, what "
        "is and is not helping — and consider a different approach, a colleague's "
        "consultation, or whether another therapist would serve them better."
    ),
}


def repair_suggestion(*, kind: str, subscale: str = "") -> str:
    if kind in (AlertKind.LOW_ALLIANCE, AlertKind.ALLIANCE_DROP):
        return _ALLIANCE.get(subscale, _ALLIANCE_GENERAL)
    return _SUGGESTIONS.get(AlertKind(kind), _ALLIANCE_GENERAL)


def alert_suggestion(alert: Alert) -> str:
    return repair_suggestion(kind=alert.kind, subscale=alert.subscale)


def alert_title(alert: Alert) -> str:
    """What the alert is, in a few words, for lists (no answers or scores in it)."""
    if alert.kind == AlertKind.GOAL_STUCK and alert.goal_position:
        return f"Goal {alert.goal_position} is going nowhere"
    return str(AlertKind(alert.kind).label)
