"""The care pages: the client's under /care/, the therapist's under /practice/clients/.

One module per concept: ``engagements`` (the relationship, sessions, goals, sharing),
``checkins`` (the client answering and seeing their check-ins), ``results`` (the therapist
seeing check-ins as shared, and alerts).
"""

from rapport.care.views.checkins import (
    check_in,
    check_in_link,
    client_progress,
)
from rapport.care.views.engagements import (
    client_end,
    client_engagement,
    client_goal_agree,
    client_goal_take,
    client_goals,
    client_home,
    client_invitation_accept,
    client_invitation_decline,
    client_sharing,
    practice_client,
    practice_clients,
    practice_end,
    practice_goal_agree,
    practice_goal_propose,
    practice_invite,
    practice_pause,
    practice_resume,
    practice_session_mark,
    practice_session_record,
    practice_start_waiting,
)
from rapport.care.views.graduation import (
    client_graduation,
    client_summary,
    practice_graduation,
    practice_summary,
)
from rapport.care.views.results import practice_alert_acknowledge, practice_check_ins

__all__ = [
    "check_in",
    "check_in_link",
    "client_end",
    "client_engagement",
    "client_goal_agree",
    "client_goal_take",
    "client_goals",
    "client_graduation",
    "client_home",
    "client_invitation_accept",
    "client_invitation_decline",
    "client_progress",
    "client_sharing",
    "client_summary",
    "practice_alert_acknowledge",
    "practice_check_ins",
    "practice_client",
    "practice_clients",
    "practice_end",
    "practice_goal_agree",
    "practice_goal_propose",
    "practice_graduation",
    "practice_invite",
    "practice_pause",
    "practice_resume",
    "practice_session_mark",
    "practice_session_record",
    "practice_start_waiting",
    "practice_summary",
]
