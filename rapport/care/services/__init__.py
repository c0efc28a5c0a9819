"""Every change to care data goes through a function here (see docs/architecture.md).

Each runs in one transaction and refuses what is not possible with an error whose message the
person can act on; a refused change writes nothing. Who may call which is decided before
(``access.py`` finds the object; ``by`` says which side acts).

The functions live in one module per concept and are all importable from here:

- ``engagements``: starting, invitations, sessions, goals, pausing, ending, sharing, erasure;
- ``checkins``: check-in requests on their schedule, answers and scores, expiry, alerts;
- ``instruments``: loading instrument definitions into the database.
"""

from rapport.care.services.engagements import (
    ALREADY_OPEN,
    SESSION_AHEAD_LIMIT,
    SESSION_PAST_LIMIT,
    client_engagements_erase,
    engagement_end,
    engagement_for_first_session,
    engagement_graduate,
    engagement_invitation_accept,
    engagement_invitation_decline,
    engagement_invite,
    engagement_pause,
    engagement_resume,
    engagement_start,
    engagement_start_after_first_session,
    goal_agree,
    goal_propose,
    goal_proposal_take,
    goals_set,
    session_mark,
    session_record,
    sharing_set,
)

__all__ = [
    "ALREADY_OPEN",
    "SESSION_AHEAD_LIMIT",
    "SESSION_PAST_LIMIT",
    "client_engagements_erase",
    "engagement_end",
    "engagement_for_first_session",
    "engagement_graduate",
    "engagement_invitation_accept",
    "engagement_invitation_decline",
    "engagement_invite",
    "engagement_pause",
    "engagement_resume",
    "engagement_start",
    "engagement_start_after_first_session",
    "goal_agree",
    "goal_propose",
    "goal_proposal_take",
    "goals_set",
    "session_mark",
    "session_record",
    "sharing_set",
]
