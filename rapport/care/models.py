"""Engagements: a client and a therapist working together, their sessions and agreed goals.

An engagement starts when the therapist books the first session after a consultation (booking
calls care's hook) or when a client accepts the therapist's invitation. Its life:

    consultation held ─┐
    fit check ─────────┴─> ongoing <─> paused ─> ended (with a reason) or graduated

A client has at most one open engagement with a therapist; the database holds that rule.
Everything either person writes about the client (goals, proposed wording, end reasons) is
health data: encrypted at rest and audited (registered in ``CareConfig.ready()``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from rapport.booking.models import Appointment
from rapport.core.fields import EncryptedTextField
from rapport.directory.models import TherapistProfile

MAX_GOALS = 3
MAX_GOAL_LENGTH = 500
MAX_REASON_LENGTH = 1000


class EngagementStatus(models.TextChoices):
    CONSULTATION_HELD = "consultation_held", "Consultation held"
    FIT_CHECK = "fit_check", "Checking the fit"
    ONGOING = "ongoing", "Ongoing"
    PAUSED = "paused", "Paused"
    ENDED = "ended", "Ended"
    GRADUATED = "graduated", "Graduated"


# An engagement in one of these is over: it needs ended_at, and another may start.
CLOSED_STATUSES = (EngagementStatus.ENDED, EngagementStatus.GRADUATED)
# Before the work proper has begun: the first attended session makes these ongoing.
STARTING_STATUSES = (EngagementStatus.CONSULTATION_HELD, EngagementStatus.FIT_CHECK)


class EndedFor(models.TextChoices):
    """Why an engagement ended, as a choice (the words are in ``end_reason``). Re-matching uses
    it: "not the right fit" means look for someone different, not just someone available."""

    NOT_THE_RIGHT_FIT = "not_right_fit", "It isn't the right fit"
    OTHER = "other", "Another reason"


class GoalReview(models.TextChoices):
    """How far a goal came, as each side sees it at graduation."""

    MET = "met", "Met"
    PARTLY = "partly", "Partly met"
    NOT_YET = "not_yet", "Not yet"


class Sharing(models.TextChoices):
    """What the therapist sees of the client's check-in answers (the client's choice)."""

    ITEM_ANSWERS = "item_answers", "My answers to each question, and the scores"
    SCORES_ONLY = "scores_only", "Only the scores"
    NOTHING = "nothing", "Nothing"


class Side(models.TextChoices):
    """Which of the two people did something."""

    CLIENT = "client", "Client"
    THERAPIST = "therapist", "Therapist"


class Engagement(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="engagements"
    )
    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, related_name="engagements"
    )
    # The consultation it grew from (none when it started from an invitation).
    consultation = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="engagements"
    )
    status = models.CharField(max_length=20, choices=EngagementStatus.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=10, choices=Side.choices, blank=True)
    # The words of whoever ended it, for the other to read: health data.
    end_reason = EncryptedTextField(max_length=MAX_REASON_LENGTH, blank=True)
    ended_for = models.CharField(max_length=16, choices=EndedFor.choices, blank=True)
    # Graduation is proposed by one side, then both review the goals before it is confirmed.
    graduation_proposed_by = models.CharField(max_length=10, choices=Side.choices, blank=True)
    graduation_proposed_at = models.DateTimeField(null=True, blank=True)
    sharing = models.CharField(max_length=20, choices=Sharing.choices, default=Sharing.SCORES_ONLY)
    # The few totals the therapist's client list shows (rapport.care.trends), kept up to date
    # when a check-in is answered, so a list of hundreds decrypts one value per client: JSON,
    # encrypted like the scores it repeats. Empty until the first answer.
    trend_summary = EncryptedTextField(blank=True)
    sharing_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-started_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("client", "therapist"),
                condition=~Q(status__in=CLOSED_STATUSES),
                name="care_one_open_engagement_per_pair",
            ),
            models.CheckConstraint(
                condition=Q(status__in=EngagementStatus.values), name="care_engagement_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(sharing__in=Sharing.values), name="care_engagement_sharing_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=CLOSED_STATUSES) | Q(ended_at__isnull=False),
                name="care_engagement_closed_has_end",
            ),
            models.CheckConstraint(
                condition=Q(ended_by__in=[*Side.values, ""]), name="care_engagement_ended_by_valid"
            ),
            models.CheckConstraint(
                condition=Q(ended_for__in=[*EndedFor.values, ""]),
                name="care_engagement_ended_for_valid",
            ),
            models.CheckConstraint(
                condition=Q(graduation_proposed_by__in=[*Side.values, ""]),
                name="care_engagement_graduation_by_valid",
            ),
            models.CheckConstraint(
                condition=(Q(graduation_proposed_by="") & Q(graduation_proposed_at__isnull=True))
                | (~Q(graduation_proposed_by="") & Q(graduation_proposed_at__isnull=False)),
                name="care_engagement_graduation_proposal_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"Engagement {self.public_id}"

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES


class SessionStatus(models.TextChoices):
    # A booked session appointment that has not been marked yet.
    SCHEDULED = "scheduled", "Booked"
    ATTENDED = "attended", "Attended"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "Did not attend"


class Session(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=SessionStatus.choices)
    # The booked session appointment this came from, if any.
    appointment = models.OneToOneField(
        Appointment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="care_session",
    )
    # Who recorded it; empty for a session that came from a booking.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("starts_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SessionStatus.values), name="care_session_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.public_id}"


class Goal(models.Model):
    """One of up to three goals, in the client's own words.

    Agreed means both sides marked this very text agreed; changing the text clears both.
    """

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="goals")
    position = models.PositiveSmallIntegerField()
    text = EncryptedTextField(max_length=MAX_GOAL_LENGTH)
    # The therapist's suggested wording; the client may take it or keep their own.
    proposed_text = EncryptedTextField(max_length=MAX_GOAL_LENGTH, blank=True)
    client_agreed_at = models.DateTimeField(null=True, blank=True)
    therapist_agreed_at = models.DateTimeField(null=True, blank=True)
    # Each side's review at graduation (GoalReview), blank until given.
    client_review = models.CharField(max_length=10, choices=GoalReview.choices, blank=True)
    therapist_review = models.CharField(max_length=10, choices=GoalReview.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("engagement", "position")
        constraints = [
            models.UniqueConstraint(
                fields=("engagement", "position"), name="care_goal_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1) & Q(position__lte=MAX_GOALS),
                name="care_goal_position_range",
            ),
            models.CheckConstraint(
                condition=Q(client_review__in=[*GoalReview.values, ""])
                & Q(therapist_review__in=[*GoalReview.values, ""]),
                name="care_goal_review_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Goal {self.position} of engagement {self.engagement_id}"

    @property
    def is_agreed(self) -> bool:
        return self.client_agreed_at is not None and self.therapist_agreed_at is not None


class SharingChange(models.Model):
    """Each choice the client made about sharing, kept as history for their export."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="sharing_changes"
    )
    sharing = models.CharField(max_length=20, choices=Sharing.choices)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ("changed_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(sharing__in=Sharing.values), name="care_sharing_change_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Sharing set to {self.sharing}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the client"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


class Invitation(models.Model):
    """A therapist's invitation to a client who has an account; accepting starts an
    engagement."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, related_name="care_invitations"
    )
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_invitations"
    )
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("client", "therapist"),
                condition=Q(status="pending"),
                name="care_one_pending_invitation_per_pair",
            ),
            models.CheckConstraint(
                condition=Q(status__in=InvitationStatus.values),
                name="care_invitation_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation {self.public_id}"


# --- instruments and check-ins ------------------------------------------------------------


class InstrumentVersion(models.Model):
    """One instrument definition exactly as it was loaded (``rapport.care.instruments``).

    Answers point at the version they were given to, so a changed definition (a new version)
    never changes what old answers mean. Built-ins are installed after each migration; a clinic
    loads its own with ``rapport load_instrument`` or the staff page.
    """

    slug = models.SlugField(max_length=64)
    version = models.CharField(max_length=32)
    title = models.CharField(max_length=200)
    # sha256 of the canonical definition (instruments.content_hash): equal content, equal hash.
    content_hash = models.CharField(max_length=80)
    # The canonical definition (instruments.definition_dict), checked before it was stored.
    definition = models.JSONField()
    builtin = models.BooleanField(default=False)
    loaded_at = models.DateTimeField()
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ("slug", "-loaded_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("slug", "version"), name="care_instrument_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"


class Purpose(models.TextChoices):
    """Why a questionnaire is asked; settings.CARE_INSTRUMENTS names the instrument for each."""

    FIT = "fit", "Fit check"
    ALLIANCE = "alliance", "Alliance check-in"
    PROGRESS = "progress", "Progress check"


class CheckInStatus(models.TextChoices):
    OPEN = "open", "Waiting for the client"
    COMPLETED = "completed", "Answered"
    EXPIRED = "expired", "Expired unanswered"
    # A newer request took its place (at most one is open per engagement).
    REPLACED = "replaced", "Replaced by a newer check-in"
    # The engagement paused or ended while it was open.
    WITHDRAWN = "withdrawn", "Withdrawn"


class CheckIn(models.Model):
    """One request to the client: one or more questionnaires (parts) and, with the alliance
    check-in, a rating of progress on each goal. The client answers it once."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="check_ins")
    status = models.CharField(
        max_length=10, choices=CheckInStatus.choices, default=CheckInStatus.OPEN
    )
    # How many sessions had been attended when it was asked (0: at the start).
    after_session = models.PositiveSmallIntegerField()
    requested_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The goals asked about, with their texts as they were then, and the client's ratings:
    # JSON, encrypted (the client's own words and how they rate their progress).
    goal_ratings = EncryptedTextField(blank=True)

    class Meta:
        ordering = ("-requested_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("engagement",),
                condition=Q(status="open"),
                name="care_one_open_check_in_per_engagement",
            ),
            models.CheckConstraint(
                condition=Q(status__in=CheckInStatus.values), name="care_check_in_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False),
                name="care_check_in_completed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("requested_at")),
                name="care_check_in_expires_after_request",
            ),
        ]
        indexes = [
            models.Index(fields=("status", "expires_at"), name="care_check_in_due_idx"),
        ]

    def __str__(self) -> str:
        return f"Check-in {self.public_id}"


class CheckInPart(models.Model):
    """One questionnaire of a check-in: the version asked, and once answered, the raw answers
    and their scores (both JSON, encrypted: they are what the client said about themselves)."""

    check_in = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="parts")
    position = models.PositiveSmallIntegerField()
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    instrument = models.ForeignKey(
        InstrumentVersion, on_delete=models.PROTECT, related_name="check_in_parts"
    )
    answers = EncryptedTextField(blank=True)
    scores = EncryptedTextField(blank=True)

    class Meta:
        ordering = ("check_in", "position")
        constraints = [
            models.UniqueConstraint(
                fields=("check_in", "position"), name="care_check_in_part_position_unique"
            ),
            models.UniqueConstraint(
                fields=("check_in", "purpose"), name="care_check_in_part_purpose_unique"
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=Purpose.values), name="care_check_in_part_purpose_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} of check-in {self.check_in_id}"


class AlertKind(models.TextChoices):
    # A critical item at or above its threshold: shown to the therapist whatever the sharing.
    CRISIS = "crisis", "A check-in needs your attention"
    # The rest come from scores, so only while the client shares at least scores
    # (rapport.care.alert_rules says when each is raised).
    LOW_ALLIANCE = "low_alliance", "The alliance is low"
    ALLIANCE_DROP = "alliance_drop", "The alliance dropped"
    GOAL_STUCK = "goal_stuck", "A goal is going nowhere"
    PROGRESS_OFF_TRACK = "progress_off_track", "Progress is off track"


# Kinds raised from scores: hidden from the therapist while the client shares nothing.
SCORE_ALERT_KINDS = (
    AlertKind.LOW_ALLIANCE,
    AlertKind.ALLIANCE_DROP,
    AlertKind.GOAL_STUCK,
    AlertKind.PROGRESS_OFF_TRACK,
)


class Alert(models.Model):
    """Something the therapist should see and act on. Acknowledged with what was done, never
    silently dismissed; the note is about the client, so it is encrypted."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="alerts")
    check_in = models.ForeignKey(
        CheckIn, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    # The weakest alliance subscale's id when the alert is about the alliance (its repair
    # suggestion is tied to it), and the goal's position for a goal going nowhere.
    subscale = models.CharField(max_length=64, blank=True)
    goal_position = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledgement = EncryptedTextField(max_length=MAX_REASON_LENGTH, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AlertKind.values), name="care_alert_kind_valid"
            ),
            models.UniqueConstraint(
                fields=("check_in", "kind"),
                condition=Q(goal_position__isnull=True),
                name="care_one_alert_per_check_in_and_kind",
            ),
            models.UniqueConstraint(
                fields=("check_in", "kind", "goal_position"),
                condition=Q(goal_position__isnull=False),
                name="care_one_goal_alert_per_check_in",
            ),
        ]
        indexes = [
            models.Index(fields=("engagement", "acknowledged_at"), name="care_alert_open_idx"),
        ]

    def __str__(self) -> str:
        return f"Alert {self.public_id}"
