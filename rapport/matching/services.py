"""Every change to matching's data goes through one of these functions."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import replace

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from rapport.accounts.models import User
from rapport.booking import selectors as booking_selectors
from rapport.booking import services as booking_services
from rapport.care.models import EndedFor, Engagement
from rapport.matching import learning
from rapport.matching.answers import FitAnswers, FitAnswersError, MisfitReason
from rapport.matching.misfits import misfit_contradiction, misfit_merged
from rapport.matching.models import Exposure, ExposureSeen, FitProfile
from rapport.matching.selectors import fit_profile_answers


def fit_profile_save(
    *, owner: User, answers: FitAnswers, now: dt.datetime | None = None
) -> FitProfile:
    """Create the person's fit profile, or replace its answers (one per account). Raises
    FitAnswersError ("did_not_fit") for two opposite "what did not fit" answers; writes nothing
    then."""
    contradiction = misfit_contradiction(answers.did_not_fit)
    if contradiction is not None:
        raise FitAnswersError("did_not_fit", contradiction)
    now = now or timezone.now()
    with transaction.atomic():
        profile = FitProfile.objects.select_for_update().filter(owner=owner).first()
        if profile is None:
            return FitProfile.objects.create(
                owner=owner, answers=answers.to_json(), created_at=now, updated_at=now
            )
        profile.answers = answers.to_json()
        profile.updated_at = max(now, profile.created_at)
        profile.save(update_fields=["answers", "updated_at"])
        return profile


def fit_profile_delete(*, profile: FitProfile) -> int:
    """Remove the profile and every answer in it, and the learned model's outcomes that were
    built from it (their features say which preferences were chosen); the model's running sums
    keep those contributions, with no identity, until the next retrain. The record of which
    therapists the account was shown today goes too (``exposure_seen_forget``).

    Sharing ends with it: every appointment of the person that shared the profile is withdrawn
    through booking's service (each change audited, as a withdrawal the person makes), so a
    profile made later is never shown to those therapists until the person shares it again.
    One transaction: the profile is gone and every share withdrawn, or nothing changed.
    Returns how many appointments stopped sharing (follow-up sessions included)."""
    with transaction.atomic():
        owner = profile.owner
        shared = list(
            booking_selectors.client_appointments(user=owner).filter(share_fit_profile=True)
        )
        for appointment in shared:
            # The service locks the row, withdraws the sessions that follow it too, and
            # changes only what is still shared (a session withdrawn with its consultation).
            booking_services.appointment_fit_profile_sharing_set(
                appointment=appointment, client=owner, shared=False
            )
        learning.outcomes_forget(user=owner)
        exposure_seen_forget(user_id=owner.pk)
        profile.delete()
        withdrawn = len(shared)
    return withdrawn


def fit_profile_misfit_remove(
    *, profile: FitProfile, reason: str, now: dt.datetime | None = None
) -> FitProfile:
    """Take one "what did not fit" answer out of the profile (the person's own choice on their
    profile page): later lists stop leaning away from it. Removing one that is not there
    changes nothing. The learned model's record of the ended engagement stays (it is about the
    engagement, not this answer)."""
    with transaction.atomic():
        locked = FitProfile.objects.select_for_update().get(pk=profile.pk)
        answers = fit_profile_answers(locked)
        if reason not in answers.did_not_fit:
            return locked
        kept = tuple(given for given in answers.did_not_fit if given != reason)
        return fit_profile_save(
            owner=locked.owner, answers=replace(answers, did_not_fit=kept), now=now
        )


class Adopted(enum.Enum):
    """What signing in did with the answers typed while signed out (``fit_profile_adopt``)."""

    NOTHING = "nothing"  # no answers, or the same as the profile's
    CREATED = "created"  # the account had no profile: they are it now
    KEPT_PROFILE = "kept_profile"  # the account has a profile: it stays as it was


def fit_profile_adopt(
    *, owner: User, answers: FitAnswers | None, now: dt.datetime | None = None
) -> Adopted:
    """The answers typed while signed out become the account's fit profile on sign-up or
    sign-in, when the account has none. An account that already has one keeps it exactly as
    it is, whatever the times say: Django's sign-in keeps the signed-out session's data, so on
    a shared computer the answers in the session may be someone else's, and replacing the
    profile would show their concerns, under this person's name, to every therapist this
    person shared it with. The caller forgets the session's copy either way."""
    if answers is None or answers.is_empty:
        return Adopted.NOTHING
    with transaction.atomic():
        profile = FitProfile.objects.select_for_update().filter(owner=owner).first()
        if profile is None:
            fit_profile_save(owner=owner, answers=answers, now=now)
            return Adopted.CREATED
        stored = fit_profile_answers(profile)
        # The questionnaire never asks "what did not fit", so a copy cannot differ there.
        if replace(answers, did_not_fit=stored.did_not_fit) == stored:
            return Adopted.NOTHING
        return Adopted.KEPT_PROFILE


def _viewer_digest(viewer: str, day: dt.date) -> str:
    # Keyed with the site's secret and the day: the stored value is not the key, and two days
    # of the same person do not share one. It is pseudonymous, not anonymous: whoever holds the
    # secret can compute it again for a known account and day (the erasure below does).
    return salted_hmac(
        "rapport.matching.exposure", f"{day.isoformat()}:{viewer}", algorithm="sha256"
    ).hexdigest()


def account_viewer(user_id: int) -> str:
    """The key a signed-in person is counted by on the exposure figures (the pages and the API
    use it, and erasure computes it again)."""
    return f"account:{user_id}"


def exposure_seen_forget(*, user_id: int) -> int:
    """Delete the record of which therapists the account was shown (``ExposureSeen``) for every
    day still kept: today's, and a past day's the housekeeping has not purged yet. The day's
    counts (``Exposure``) name no one and stay. Returns how many rows went."""
    days = ExposureSeen.objects.values_list("day", flat=True).distinct()
    digests = [_viewer_digest(account_viewer(user_id), day) for day in days]
    if not digests:
        return 0
    deleted, _ = ExposureSeen.objects.filter(viewer__in=digests).delete()
    return deleted


def exposure_seen_purge(*, now: dt.datetime) -> int:
    """Delete the records of who was counted on days before today (housekeeping, daily): the
    counts of a past day are final, so nothing needs them. Safe to run from several machines at
    once (a delete by day). Returns how many rows went."""
    deleted, _ = ExposureSeen.objects.filter(day__lt=timezone.localdate(now)).delete()
    return deleted


def exposure_record(*, therapist_ids: Iterable[int], day: dt.date, viewer: str) -> None:
    """Count a first page of a match list shown to ``viewer`` (a key for the person: their
    account, their session, or an anonymous request's answers), once per person a day, and
    each therapist on it once per person a day: a reload, a repeated request or a later list
    with the same therapists adds nothing, a therapist new to this person's first page today
    adds one (for staff's exposure page).

    Side effects: the day's ``ExposureSeen`` row for the viewer (a keyed hash, never the key),
    and on the first of a new day the rows of past days are deleted (so does the daily
    housekeeping, ``exposure_seen_purge``, on days nobody is counted); ``Exposure`` rows
    created or added to. The viewer's row is locked, so two requests of the same person at once
    count once."""
    ids = sorted(set(therapist_ids))
    digest = _viewer_digest(viewer, day)
    with transaction.atomic():
        seen, created = ExposureSeen.objects.get_or_create(
            day=day, viewer=digest, defaults={"therapist_ids": ids}
        )
        if created:
            new_ids = ids
            ExposureSeen.objects.filter(day__lt=day).delete()
        else:
            seen = ExposureSeen.objects.select_for_update().get(pk=seen.pk)
            counted = set(seen.therapist_ids)
            new_ids = [therapist_id for therapist_id in ids if therapist_id not in counted]
            if not new_ids:
                return
            seen.therapist_ids = sorted(counted | set(new_ids))
            seen.save(update_fields=["therapist_ids"])
        rows = [Exposure(day=day, therapist_id=None, first_page_count=0)] + [
            Exposure(day=day, therapist_id=therapist_id, first_page_count=0)
            for therapist_id in new_ids
        ]
        # Create the day's rows that are missing, then add one to each in one statement.
        Exposure.objects.bulk_create(rows, ignore_conflicts=True)
        if created:
            total = Exposure.objects.filter(day=day, therapist__isnull=True)
            total.update(first_page_count=F("first_page_count") + 1)
        if new_ids:
            Exposure.objects.filter(day=day, therapist_id__in=new_ids).update(
                first_page_count=F("first_page_count") + 1
            )


class NotAMisfit(ValueError):
    """Feedback about an engagement that did not end as "not the right fit"."""


def misfit_feedback_record(
    *,
    owner: User,
    engagement: Engagement,
    reasons: Iterable[str],
    now: dt.datetime | None = None,
) -> FitProfile:
    """The person says what did not fit in an engagement they ended as not the right fit.

    The reasons join the fit profile's ``did_not_fit`` (creating an empty profile when there is
    none), each replacing its opposite if the profile has it (``misfit_merged``), so every
    later list leans away from them (``ranking``); the learned model records
    the ended engagement as a poor early outcome for that pair, once (``learning``). Raises
    NotAMisfit when the engagement is not the owner's or did not end that way; FitAnswersError
    for an unknown reason or two opposite ones. Writes nothing then.
    """
    now = now or timezone.now()
    chosen = tuple(dict.fromkeys(reasons))
    unknown = [reason for reason in chosen if reason not in set(MisfitReason)]
    if unknown:
        raise FitAnswersError("reasons", f"“{unknown[0][:40]}” is not one of the reasons we know.")
    contradiction = misfit_contradiction(chosen)
    if contradiction is not None:
        raise FitAnswersError("reasons", contradiction)
    if engagement.client_id != owner.pk or engagement.ended_for != EndedFor.NOT_THE_RIGHT_FIT:
        raise NotAMisfit("Only an engagement you ended as not the right fit can be re-matched.")
    with transaction.atomic():
        profile = FitProfile.objects.select_for_update().filter(owner=owner).first()
        answers = fit_profile_answers(profile) if profile else FitAnswers()
        # The newest answer replaces its opposite ("too directive" after "not directive
        # enough"): the person's latest experience is what the list should lean on.
        merged = misfit_merged(answers.did_not_fit, chosen)
        profile = fit_profile_save(
            owner=owner, answers=replace(answers, did_not_fit=merged), now=now
        )
        learning.misfit_record(engagement=engagement, now=now)
    return profile
