"""Every change to care data goes through a function here (see docs/architecture.md).

Each runs in one transaction and refuses what is not possible with an error whose message the
person can act on; a refused change writes nothing. Who may call which is decided before
(``access.py`` finds the object; ``by`` says which side acts).

The functions live in one module per concept and are all importable from here:

- ``engagements``: starting, invitations, sessions, goals, pausing, ending, sharing, erasure;
- ``checkins``: check-in requests on their schedule, answers and scores, expiry, alerts;
- ``graduation``: a planned graduation (propose, review the goals, confirm or withdraw);
- ``instruments``: loading instrument definitions into the database.
"""

from rapport.care.services.checkins import (
    GOAL_RATING_MAX,
    GOAL_RATING_MIN,
    CheckInResult,
    PartResult,
    alert_acknowledge,
    check_in_answer,
    check_in_request_after_session,
    check_in_request_at_start,
    check_in_request_final,
    check_ins_expire,
    check_ins_withdraw,
    instrument_for_purpose,
    purposes_due_after,
    purposes_due_at_start,
    scores_dict,
)
from rapport.care.services.engagements import (
    ALREADY_OPEN,
    SESSION_AHEAD_LIMIT,
    SESSION_PAST_LIMIT,
    client_engagements_erase,
    engagement_end,
    engagement_end_not_right_fit,
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
    goal_proposal_take,
    goal_propose,
    goals_set,
    session_follow_appointment,
    session_mark,
    session_record,
    sharing_set,
)
from rapport.care.services.graduation import (
    GraduationConflict,
    goal_review_set,
    goal_reviews_set,
    graduation_confirm,
    graduation_propose,
    graduation_withdraw,
)
from rapport.care.services.instruments import (
    instrument_builtins_install,
    instrument_load,
    instrument_store,
)

__all__ = [
    "ALREADY_OPEN",
    "GOAL_RATING_MAX",
    "GOAL_RATING_MIN",
    "SESSION_AHEAD_LIMIT",
    "SESSION_PAST_LIMIT",
    "CheckInResult",
    "GraduationConflict",
    "PartResult",
    "alert_acknowledge",
    "check_in_answer",
    "check_in_request_after_session",
    "check_in_request_at_start",
    "check_in_request_final",
    "check_ins_expire",
    "check_ins_withdraw",
    "client_engagements_erase",
    "engagement_end",
    "engagement_end_not_right_fit",
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
    "goal_proposal_take",
    "goal_propose",
    "goal_review_set",
    "goal_reviews_set",
    "goals_set",
    "graduation_confirm",
    "graduation_propose",
    "graduation_withdraw",
    "instrument_builtins_install",
    "instrument_for_purpose",
    "instrument_load",
    "instrument_store",
    "purposes_due_after",
    "purposes_due_at_start",
    "scores_dict",
    "session_follow_appointment",
    "session_mark",
    "session_record",
    "sharing_set",
]
