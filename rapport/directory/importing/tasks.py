"""The invitation to claim an imported listing, sent by the task worker after the row commits."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task

from rapport.directory.models import TherapistProfile, VerificationStatus


def claim_url(user: object) -> str:
    """A one-time link to set the account's first password: allauth's own password-reset key,
    so the same code checks it, it expires after PASSWORD_RESET_TIMEOUT, and it stops working
    once a password is set (the key is derived from the password hash)."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    key = default_token_generator.make_token(user)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": key},
    )
    return f"{settings.SITE_URL}{path}"


@task()
def send_import_invitation_email(*, user_id: int, therapist_id: int) -> None:
    """Invite the therapist to claim the listing staff imported for them: set a password, set
    up the second factor, review the listing and submit it. Skipped when the account has a
    password meanwhile (claimed already) or is gone."""
    therapist = (
        TherapistProfile.objects.select_related("user")
        .filter(pk=therapist_id, user_id=user_id)
        .first()
    )
    if therapist is None or therapist.user is None or therapist.user.has_usable_password():
        return
    user = therapist.user
    days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86_400)
    send_mail(
        "[Rapport] Your practice listed you on Rapport: claim your listing",
        render_to_string(
            "directory/email/import_invitation.txt",
            {
                "therapist": therapist,
                "claim_url": claim_url(user),
                "link_days": days,
                "verified": therapist.verification_status == VerificationStatus.VERIFIED,
                "sign_in_url": f"{settings.SITE_URL}{reverse('account_login')}",
                "reset_url": f"{settings.SITE_URL}{reverse('account_reset_password')}",
                # The onboarding pages: the same steps a therapist who signs up goes through.
                "practice_url": f"{settings.SITE_URL}{reverse('directory:practice_profile')}",
            },
        ),
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )
