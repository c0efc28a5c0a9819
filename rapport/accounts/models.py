"""People who sign in. Browsing the directory needs no account at all."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower


class Role(models.TextChoices):
    CLIENT = "client", "Client"
    THERAPIST = "therapist", "Therapist"
    STAFF = "staff", "Staff"


class EmailUserManager(UserManager["User"]):
    """Creates users keyed by e-mail; Rapport has no separate user names."""

    def _create_user_object(
        self, username: str | None, email: str | None, password: str | None, **extra: Any
    ) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        return user

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        user = self._create_user_object(None, email, password, **extra)
        user.save(using=self._db)
        return user

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.update(is_staff=True, is_superuser=True, role=Role.STAFF)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """An account. The e-mail address is the login; it is unique regardless of letter case."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", max_length=254, unique=True)
    name = models.CharField(max_length=150, blank=True, help_text="What we call you in e-mails.")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CLIENT)
    # Deletion is scheduled, not immediate: a grace period lets a person change their mind,
    # and `rapport purge` carries it out when it ends.
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    deletion_due_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = EmailUserManager()  # type: ignore[misc]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="accounts_user_role_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(deletion_due_at__isnull=True)
                | models.Q(deletion_requested_at__isnull=False),
                name="accounts_user_deletion_due_only_when_requested",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def validate_unique(self, exclude: Collection[str] | None = None) -> None:
        """Report an address taken in another letter case on the e-mail field itself.

        The database enforces this (``accounts_user_email_unique_ci``); without this check
        model validation would only raise a generic error about the constraint.
        """
        super().validate_unique(exclude)
        if exclude is not None and "email" in exclude:
            return
        taken = User.objects.filter(email__iexact=self.email).exclude(pk=self.pk)
        if self.email and taken.exists():
            raise ValidationError({"email": self.unique_error_message(User, ("email",))})

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email


class ConsentKind(models.TextChoices):
    TERMS = "terms", "Terms of use"
    PRIVACY = "privacy", "Privacy notice"
    # Given the first time a client shares health data (a fit profile, a check-in) with a
    # therapist; later issues ask for it at that moment.
    SHARE = "share", "Sharing with a therapist"


class Consent(models.Model):
    """One consent a person gave to one version of a document. Never edited: a withdrawal is
    recorded on the row, and a new version needs a new row, so the history stays provable."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=16, choices=ConsentKind.choices)
    version = models.CharField(max_length=32)
    given_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-given_at",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ConsentKind.values), name="accounts_consent_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True)
                | models.Q(withdrawn_at__gte=models.F("given_at")),
                name="accounts_consent_withdrawn_after_given",
            ),
            # At most one live consent per document version.
            models.UniqueConstraint(
                fields=("user", "kind", "version"),
                condition=models.Q(withdrawn_at__isnull=True),
                name="accounts_consent_one_live_per_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version}"
