"""Therapist profiles and everything a client reads on one.

Every rule that a bad row could break (a negative fee, a sliding-scale floor above the fee, a
latitude off the globe, a made-up jurisdiction) is a database constraint as well as model
validation: the admin, the API, a bulk import and a future migration all meet the same wall.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import LazyObject, empty

from rapport.core.geo import distance_km
from rapport.core.models import Jurisdiction, Term
from rapport.core.money import Currency, format_money
from rapport.core.validators import validate_time_zone

# --- taxonomies (data: fixtures + admin) ---------------------------------------------------


class Concern(Term):
    """What a client wants help with: anxiety, grief, trauma …"""


class Modality(Term):
    """A therapeutic approach: CBT, EFT, psychodynamic …"""

    class Meta(Term.Meta):
        verbose_name_plural = "modalities"


class Population(Term):
    """Who a therapist sees: individuals, couples, families, teens, children, older adults."""


class Language(Term):
    """A language sessions can be held in. ``slug`` is the BCP 47 tag (en, fr, pa …)."""


class Faith(Term):
    """A faith or spiritual tradition a therapist chooses to disclose."""

    class Meta(Term.Meta):
        verbose_name_plural = "faiths"


class LivedExperience(Term):
    """Self-disclosed lived experience a client may look for (immigration, disability …)."""

    class Meta(Term.Meta):
        verbose_name_plural = "lived experiences"


class AccessibilityFeature(Term):
    """An accessibility feature of an office: step-free entrance, accessible washroom …"""


# --- credentials ---------------------------------------------------------------------------


class DesignationManager(models.Manager["Designation"]):
    def get_by_natural_key(self, code: str) -> Designation:
        return self.get(code=code)


class Designation(models.Model):
    """A professional title such as RP, RSW, C.Psych, LCSW or LMFT."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    country_code = models.CharField(max_length=2, help_text="Where the title is used: CA or US.")

    objects = DesignationManager()

    class Meta:
        ordering = ("code",)

    def __str__(self) -> str:
        return self.code

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class RegulatorManager(models.Manager["Regulator"]):
    def get_by_natural_key(self, jurisdiction_code: str, abbreviation: str) -> Regulator:
        return self.get(jurisdiction_id=jurisdiction_code, abbreviation=abbreviation)


class Regulator(models.Model):
    """The college or board that licenses a designation in one jurisdiction."""

    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT)
    abbreviation = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    designations = models.ManyToManyField(Designation, related_name="regulators")
    register_url = models.URLField(blank=True, help_text="Public register to check a licence.")
    # The form of the numbers this regulator issues, checked by rules.check_licence_number on
    # the number as normalised there (no spaces, upper case). Empty: any number is accepted.
    licence_number_pattern = models.CharField(
        max_length=200,
        blank=True,
        help_text="Regular expression a licence number must match in full; empty accepts any.",
    )
    licence_number_hint = models.CharField(
        max_length=100, blank=True, help_text='Shown when a number does not fit, e.g. "5 digits".'
    )

    objects = RegulatorManager()

    class Meta:
        ordering = ("jurisdiction", "name")
        constraints = [
            models.UniqueConstraint(
                fields=("jurisdiction", "abbreviation"), name="directory_regulator_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.jurisdiction_id})"

    def natural_key(self) -> tuple[str, str]:
        return (self.jurisdiction_id, self.abbreviation)


# --- the profile ---------------------------------------------------------------------------


class VerificationStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"
    SUSPENDED = "suspended", "Suspended"


class GenderCategory(models.TextChoices):
    """Coarse categories for the gender filter; the therapist's own words go in free text."""

    WOMAN = "woman", "Woman"
    MAN = "man", "Man"
    NON_BINARY = "non_binary", "Non-binary"
    TWO_SPIRIT = "two_spirit", "Two-Spirit"
    ANOTHER = "another", "Another identity"
    UNDISCLOSED = "undisclosed", "Prefers not to say"


class BetweenSessionContact(models.TextChoices):
    NONE = "none", "No contact between sessions"
    SCHEDULING = "scheduling", "Scheduling questions only"
    BRIEF_CHECK_INS = "brief_check_ins", "Brief check-ins between sessions"


# One scale for every style dimension: 1 and 5 are the two poles, 3 is "somewhere in between".
STYLE_MIN, STYLE_MAX = 1, 5
STYLE_DIMENSIONS: tuple[tuple[str, str, str], ...] = (
    ("style_structure", "Structured", "Exploratory"),
    ("style_direction", "Directive", "Client-led"),
    ("style_challenge", "Gentle", "Challenging"),
    ("style_time_focus", "Present-focused", "Past-focused"),
    ("style_humour", "Rarely uses humour", "Often uses humour"),
)


def _style_field(low: str, high: str) -> models.PositiveSmallIntegerField[Any, Any]:
    return models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(STYLE_MIN), MaxValueValidator(STYLE_MAX)],
        help_text=f"1 = {low}, 5 = {high}.",
    )


class _VideosStorage(LazyObject):
    """STORAGES["videos"], looked up when first used (and again after the setting changes, as
    Django does for its default storage), not when this module is imported."""

    def _setup(self) -> None:
        self._wrapped = storages["videos"]


_photo_files = _VideosStorage()


@receiver(setting_changed)
def _photo_storage_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "STORAGES":
        _photo_files._wrapped = empty  # type: ignore[assignment]


def therapist_photo_url(*, public_id: uuid.UUID, photo_name: str) -> str:
    """``TherapistProfile.photo_url`` from the stored values ("" without a photo), for reads
    that do not build model instances (rapport.directory.cards)."""
    if not photo_name:
        return ""
    version = photo_name.rsplit("/", 1)[-1].split(".", 1)[0][:12]
    return reverse("directory:therapist_photo", args=[public_id]) + f"?v={version}"


def photo_storage() -> Storage:
    """Photos are kept with the video introductions (STORAGES["videos"]): private files that
    only the directory's photo view serves, with the listing's access rules (a draft's or a
    refused listing's photo is seen by its therapist and the licence reviewers alone)."""
    return cast(Storage, _photo_files)


def photo_upload_to(instance: TherapistProfile, filename: str) -> str:
    # Random names: the file name a therapist uploaded may contain their own name.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"therapists/photos/{uuid.uuid4().hex}.{extension[:5]}"


# Each way of meeting: its value in URLs and the API, the profile's flag, and its label.
DELIVERY_MODES = (
    ("in_person", "offers_in_person", "In person"),
    ("video", "offers_video", "Video"),
    ("phone", "offers_phone", "Phone"),
)


class TherapistProfile(models.Model):
    """One therapist's public listing and the practice facts behind it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="therapist_profile",
    )

    # identity (everything beyond the name is optional and self-disclosed)
    display_name = models.CharField(max_length=120)
    pronouns = models.CharField(max_length=40, blank=True)
    gender_category = models.CharField(
        max_length=16, choices=GenderCategory.choices, default=GenderCategory.UNDISCLOSED
    )
    gender_description = models.CharField(
        max_length=100, blank=True, help_text="The therapist's own words, shown on the profile."
    )
    languages = models.ManyToManyField(Language, related_name="therapists")
    cultural_background = models.CharField(max_length=200, blank=True)
    faiths = models.ManyToManyField(Faith, blank=True, related_name="therapists")
    identifies_as_lgbtq2s = models.BooleanField(
        null=True, blank=True, help_text="Empty means the therapist has not said."
    )
    lgbtq2s_affirming = models.BooleanField(default=False)
    lived_experiences = models.ManyToManyField(
        LivedExperience, blank=True, related_name="therapists"
    )
    practice_start_year = models.PositiveSmallIntegerField(
        help_text="Year the therapist began practising; years in practice are counted from it."
    )
    photo = models.ImageField(upload_to=photo_upload_to, blank=True, storage=photo_storage)

    # what a client reads
    headline = models.CharField(max_length=160, blank=True)
    about = models.TextField(blank=True)
    approach = models.TextField(blank=True)
    first_session = models.TextField(
        blank=True, help_text='"What a first session with me looks like", in their words.'
    )

    # professional
    designation = models.ForeignKey(
        Designation,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The title shown next to the name; each licence is recorded separately.",
    )
    verification_status = models.CharField(
        max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.PENDING
    )
    verification_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verification_decided_at = models.DateTimeField(null=True, blank=True)
    verification_reason = models.TextField(blank=True)
    # Set when the therapist sends the finished onboarding for review (or a licence change sends
    # it back). Until then a pending profile is a draft (completeness.is_draft): the therapist
    # has not asked for review yet, and like every pending profile it is never listed.
    submitted_for_review_at = models.DateTimeField(null=True, blank=True)
    # The onboarding steps the therapist has saved at least once. Only needed for the steps whose
    # fields all have defaults (style, where, contact policy): a default is not an answer.
    onboarding_steps_saved = models.JSONField(default=list, blank=True)
    concerns = models.ManyToManyField(Concern, related_name="therapists")
    modalities = models.ManyToManyField(Modality, related_name="therapists")
    populations = models.ManyToManyField(Population, related_name="therapists")

    # style: the therapist's own placement
    style_structure = _style_field("Structured", "Exploratory")
    style_direction = _style_field("Directive", "Client-led")
    style_challenge = _style_field("Gentle", "Challenging")
    style_time_focus = _style_field("Present-focused", "Past-focused")
    style_humour = _style_field("Rarely uses humour", "Often uses humour")

    # practice
    fee_minor = models.PositiveIntegerField(help_text="Fee per session in cents.")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    sliding_scale_min_minor = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Lowest fee on a sliding scale, in cents; empty when there is no sliding scale.",
    )
    accepts_insurance = models.BooleanField(default=False)
    direct_billing = models.BooleanField(
        default=False, help_text="Bills the insurer directly, so the client pays only the gap."
    )
    insurance_note = models.CharField(max_length=300, blank=True)
    session_minutes = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(15), MaxValueValidator(240)]
    )
    consultation_minutes = models.PositiveSmallIntegerField(
        default=15,
        validators=[MaxValueValidator(60)],
        help_text="Length of the free consultation; 0 means none is offered.",
    )
    offers_in_person = models.BooleanField(default=False)
    offers_video = models.BooleanField(default=True)
    offers_phone = models.BooleanField(default=False)
    time_zone = models.CharField(
        max_length=64,
        validators=[validate_time_zone],
        help_text="IANA zone the therapist works in; availability is set in it.",
    )
    accepting_new_clients = models.BooleanField(default=True)
    accepting_confirmed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the therapist last confirmed they are accepting new clients.",
    )
    is_listed = models.BooleanField(
        default=True, help_text="The therapist's own switch to show or hide the listing."
    )
    accepting_warning_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the therapist was last warned that their listing is about to pause.",
    )
    listing_paused_notice_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the therapist was last told their listing paused (not re-confirmed).",
    )

    # Facts the booking app keeps current through services.therapist_booking_facts_set (the
    # directory never imports booking): the search index and the profile page read them here.
    next_consultation_at = models.DateTimeField(
        null=True, blank=True, help_text="Start of the earliest free consultation time."
    )
    median_reply_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty until there are enough requests to say."
    )
    first_session_rate_percent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Share of held consultations followed by a first session; empty until enough.",
    )

    # Facts the videos app keeps current through services.therapist_video_facts_set: whether a
    # moderated, published video introduction exists, and whether one of them has captions.
    has_video_introduction = models.BooleanField(
        default=False, help_text="At least one approved video introduction is published."
    )
    has_captioned_video = models.BooleanField(
        default=False, help_text="At least one published video introduction has captions."
    )

    # contact policy: bounded contact is part of the product, not a footnote
    between_session_contact = models.CharField(
        max_length=16,
        choices=BetweenSessionContact.choices,
        default=BetweenSessionContact.SCHEDULING,
    )
    reply_within_hours = models.PositiveSmallIntegerField(
        default=48,
        validators=[MinValueValidator(1), MaxValueValidator(336)],
        help_text="Usual reply window for messages and requests.",
    )
    contact_hours = models.CharField(
        max_length=200, blank=True, help_text='Published hours, e.g. "Weekdays 9:00–17:00".'
    )

    # Demo and load-test data carry the key they were generated under, so re-seeding is
    # idempotent and `seed --clear` removes only generated rows.
    seed_key = models.CharField(max_length=40, null=True, blank=True, unique=True, editable=False)
    # The key a group practice's own system gives this therapist, so a re-import updates the
    # same profile instead of adding another (rapport.directory.importing).
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("display_name", "id")
        permissions = [
            ("review_licences", "Can verify, reject or suspend therapists' licences"),
        ]
        indexes = [
            # Matches the listing rule in selectors.therapist_listing.
            models.Index(
                fields=(
                    "verification_status",
                    "is_listed",
                    "accepting_new_clients",
                    "accepting_confirmed_at",
                ),
                name="directory_profile_listing_idx",
            ),
            models.Index(fields=("display_name", "id"), name="directory_profile_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(fee_minor__gte=0), name="profile_fee_not_negative"),
            models.CheckConstraint(
                condition=Q(sliding_scale_min_minor__isnull=True)
                | (
                    Q(sliding_scale_min_minor__gte=0)
                    & Q(sliding_scale_min_minor__lte=models.F("fee_minor"))
                ),
                name="profile_sliding_scale_within_fee",
            ),
            models.CheckConstraint(
                condition=Q(currency__in=Currency.values), name="profile_currency_valid"
            ),
            models.CheckConstraint(
                condition=Q(verification_status__in=VerificationStatus.values),
                name="profile_verification_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(verification_status=VerificationStatus.VERIFIED)
                | Q(verification_decided_at__isnull=False),
                name="profile_verified_has_decision_time",
            ),
            models.CheckConstraint(
                condition=Q(gender_category__in=GenderCategory.values),
                name="profile_gender_category_valid",
            ),
            models.CheckConstraint(
                condition=Q(between_session_contact__in=BetweenSessionContact.values),
                name="profile_contact_policy_valid",
            ),
            models.CheckConstraint(
                condition=Q(offers_in_person=True) | Q(offers_video=True) | Q(offers_phone=True),
                name="profile_offers_some_delivery",
            ),
            models.CheckConstraint(
                condition=Q(session_minutes__gte=15) & Q(session_minutes__lte=240),
                name="profile_session_length_range",
            ),
            models.CheckConstraint(
                condition=Q(consultation_minutes__lte=60),
                name="profile_consultation_length_range",
            ),
            models.CheckConstraint(
                condition=Q(reply_within_hours__gte=1) & Q(reply_within_hours__lte=336),
                name="profile_reply_window_range",
            ),
            models.CheckConstraint(
                condition=Q(practice_start_year__gte=1950) & Q(practice_start_year__lte=2100),
                name="profile_practice_start_year_range",
            ),
            models.CheckConstraint(
                condition=Q(time_zone__contains="/") | Q(time_zone="UTC"),
                name="profile_time_zone_shaped",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{field}__gte": STYLE_MIN, f"{field}__lte": STYLE_MAX}),
                    name=f"profile_{field}_range",
                )
                for field, _, _ in STYLE_DIMENSIONS
            ],
        ]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if (
            self.sliding_scale_min_minor is not None
            and self.fee_minor is not None
            and self.sliding_scale_min_minor > self.fee_minor
        ):
            errors["sliding_scale_min_minor"] = (
                "The lowest sliding-scale fee cannot be above the full fee."
            )
        if not (self.offers_in_person or self.offers_video or self.offers_phone):
            errors["offers_video"] = "Offer at least one way to meet: in person, video or phone."
        this_year = timezone.now().year
        if self.practice_start_year is not None and not (
            1950 <= self.practice_start_year <= this_year
        ):
            errors["practice_start_year"] = f"Enter a year between 1950 and {this_year}."
        if (
            self.verification_status == VerificationStatus.VERIFIED
            and self.verification_decided_at is None
        ):
            errors["verification_decided_at"] = "A verified listing needs the time of the decision."
        if errors:
            raise ValidationError(errors)

    @property
    def photo_url(self) -> str:
        """Where pages load the photo: the photo view, with the file's own random name as a
        version, so a new photo is never served from a cache of the old one."""
        return therapist_photo_url(public_id=self.public_id, photo_name=self.photo.name or "")

    @property
    def years_in_practice(self) -> int:
        return max(0, timezone.now().year - self.practice_start_year)

    @property
    def fee_display(self) -> str:
        return format_money(self.fee_minor, self.currency)

    @property
    def sliding_scale_display(self) -> str | None:
        if self.sliding_scale_min_minor is None:
            return None
        return format_money(self.sliding_scale_min_minor, self.currency)

    @property
    def delivery_mode_values(self) -> list[str]:
        """The ways of meeting offered, as the search and the API name them ("in_person", …)."""
        return [value for value, flag, _label in DELIVERY_MODES if getattr(self, flag)]

    @property
    def delivery_modes(self) -> list[str]:
        """The ways of meeting offered, as a person reads them ("In person", …)."""
        return [label for _value, flag, label in DELIVERY_MODES if getattr(self, flag)]

    @property
    def is_virtual_only(self) -> bool:
        return not self.offers_in_person

    def style_placements(self) -> list[dict[str, Any]]:
        """Each style dimension with its two poles and the therapist's position, for display."""
        return [
            {"low": low, "high": high, "value": getattr(self, field)}
            for field, low, high in STYLE_DIMENSIONS
        ]


class VerificationDecision(models.Model):
    """One licence-review decision, kept forever: the profile holds the current status, this
    table holds who decided what, when, why, and on which licence details."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, related_name="verification_decisions"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    previous_status = models.CharField(max_length=16, choices=VerificationStatus.choices)
    status = models.CharField(max_length=16, choices=VerificationStatus.choices)
    reason = models.TextField(blank=True)
    decided_at = models.DateTimeField()
    # The licence details as the reviewer saw them, so a later edit cannot rewrite history.
    licences_reviewed = models.JSONField(default=list)

    class Meta:
        ordering = ("-decided_at",)
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=VerificationStatus.values),
                name="verification_decision_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=(VerificationStatus.VERIFIED, VerificationStatus.PENDING))
                | ~Q(reason=""),
                name="verification_decision_reason_for_refusals",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} on {self.decided_at:%Y-%m-%d}"


class LicenceQuerySet(models.QuerySet["Licence"]):
    def current(self, *, on: dt.date) -> LicenceQuerySet:
        """Licences in force on ``on`` (no expiry, or expiring that day or later). The one
        definition: an expired licence must never read as "licensed in …", which a client takes
        as the legal permission to treat them, nor be verified."""
        return self.filter(Q(expires_on__isnull=True) | Q(expires_on__gte=on))


class Licence(models.Model):
    """A licence to practise in one jurisdiction. Telehealth is legal only where one is held."""

    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, related_name="licences"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    designation = models.ForeignKey(Designation, on_delete=models.PROTECT, related_name="+")
    regulator = models.ForeignKey(Regulator, on_delete=models.PROTECT, related_name="licences")
    number = models.CharField(max_length=40)
    expires_on = models.DateField(null=True, blank=True)

    objects = LicenceQuerySet.as_manager()

    class Meta:
        ordering = ("jurisdiction_id",)
        constraints = [
            models.UniqueConstraint(
                fields=("therapist", "jurisdiction", "designation"),
                name="licence_one_per_title_and_jurisdiction",
            ),
            models.CheckConstraint(condition=~Q(number=""), name="licence_number_present"),
        ]
        indexes = [models.Index(fields=("jurisdiction", "therapist"), name="licence_juris_idx")]

    def __str__(self) -> str:
        return f"Licence {self.number} ({self.jurisdiction_id})"

    def clean(self) -> None:
        if self.regulator_id is None:
            return
        if (
            self.jurisdiction_id is not None
            and self.regulator.jurisdiction_id != self.jurisdiction_id
        ):
            raise ValidationError(
                {"regulator": "This regulator does not license in the chosen jurisdiction."}
            )
        if (
            self.designation_id is not None
            and not self.regulator.designations.filter(pk=self.designation_id).exists()
        ):
            raise ValidationError(
                {"designation": "This regulator does not grant the chosen designation."}
            )


class Office(models.Model):
    """A place where the therapist sees clients in person."""

    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, related_name="offices"
    )
    label = models.CharField(max_length=100, blank=True, help_text='e.g. "Annex office".')
    street_address = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    postal_code = models.CharField(max_length=12, blank=True)
    latitude = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(validators=[MinValueValidator(-180), MaxValueValidator(180)])
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    accessibility_features = models.ManyToManyField(
        AccessibilityFeature, blank=True, related_name="offices"
    )
    accessibility_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ("therapist", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90) & Q(latitude__lte=90),
                name="office_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180) & Q(longitude__lte=180),
                name="office_longitude_range",
            ),
            models.CheckConstraint(
                condition=Q(time_zone__contains="/") | Q(time_zone="UTC"),
                name="office_time_zone_shaped",
            ),
        ]

    def __str__(self) -> str:
        return self.label or f"{self.street_address}, {self.city}"

    def distance_km_to(self, latitude: float, longitude: float) -> float:
        return distance_km(self.latitude, self.longitude, latitude, longitude)


# --- search index freshness ----------------------------------------------------------------


class SearchIndexVersion(models.Model):
    """One row whose ``version`` goes up, in the same transaction, with every change to what the
    directory search indexes (profiles, licences, offices, taxonomy terms).

    Each process keeps its own in-memory search index and compares this stamp (one primary-key
    read per search) with the one it was built from, so every process and machine rebuilds after
    a change. ``stamp`` changes with every bump too: a bump that is rolled back frees its number
    for a different change, and the pair tells the two apart.
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID)
    version = models.PositiveBigIntegerField(default=1)
    stamp = models.UUIDField(default=uuid.uuid4)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Search index version {self.version}"


# --- a signed-in person's shortlist -------------------------------------------------------------


class ShortlistEntry(models.Model):
    """One therapist a signed-in person saved, so the shortlist outlives the browser session.

    A visitor without an account keeps theirs in the session (``rapport.directory.shortlist``);
    on sign-in it is merged into these rows. Deleted with the account (and with the listing): it
    says only whom the person was considering, never why.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shortlist_entries"
    )
    therapist = models.ForeignKey(
        TherapistProfile, on_delete=models.CASCADE, related_name="shortlist_entries"
    )
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("saved_at", "id")
        constraints = [
            models.UniqueConstraint(fields=("user", "therapist"), name="shortlist_entry_unique"),
        ]

    def __str__(self) -> str:
        return f"Shortlist entry {self.pk}"
