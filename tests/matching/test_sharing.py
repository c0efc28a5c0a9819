"""Sharing the fit profile at booking: the booking form's checkbox, the therapist's audited page
for that appointment, withdrawing it, and e-mails that never carry any of it."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.booking import outbox, services
from rapport.booking.errors import InvalidTransition
from rapport.booking.models import Appointment, AppointmentKind, AppointmentStatus, OutboxEmail
from rapport.booking.views.common import slot_key
from rapport.directory.models import TherapistProfile
from rapport.matching import sharing
from rapport.matching.answers import Weight
from rapport.matching.models import FitProfile
from rapport.matching.selectors import fit_profile_answers
from rapport.matching.session import session_answers_keep
from tests.booking.factories import make_appointment, make_bookable_therapist
from tests.booking.helpers import free_times_ahead
from tests.factories import make_therapist_user, make_user
from tests.matching.factories import fit_answers, fit_profile
from tests.matching.helpers import last_change_of

pytestmark = pytest.mark.django_db

STORY = "My brother moved away and the house feels unbearably quiet since spring."
HOPES = "Sleeping through the night again and calling my brother without dread."
CLIENT_EMAIL = "sam@example.org"
SHARE_LABEL = "Share my fit profile with Dana Reyes"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    return make_bookable_therapist(
        display_name="Dana Reyes", currency="CAD", user=make_therapist_user(mfa=True)
    )


@pytest.fixture
def client_user():
    return make_user(role="client", email=CLIENT_EMAIL)


def profile_for(owner, **overrides) -> FitProfile:
    answers = {
        "story": STORY,
        "hopes": HOPES,
        "concerns": ["grief", "anxiety"],
        "preferences": {
            "language": {"weight": int(Weight.VERY_IMPORTANT), "values": ["pa"]},
            "lgbtq2s_affirming": {"weight": int(Weight.IMPORTANT)},
        },
        "language_required": True,
        "style": {"style_structure": 1, "style_challenge": 4},
        "budget_per_session": 120,
        "sessions_affordable": 8,
        "availability": ["weekday_evening"],
        "delivery": ["video"],
        "place": "Winnipeg, MB",
        "radius_km": 37,
        "did_not_fit": ["felt_judged", "too_directive"],
    }
    answers.update(overrides)
    return fit_profile(owner=owner, **answers)


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def book_url(therapist: TherapistProfile, moment: dt.datetime) -> str:
    return reverse("booking:consultation_book_time", args=[therapist.public_id, slot_key(moment)])


def book(browser: Client, therapist: TherapistProfile, *, email: str = CLIENT_EMAIL, **extra):
    moment = free_times_ahead(therapist)[0].starts_at
    data = {"client_name": "Sam Client", "client_email": email, "time_zone": "America/Vancouver"}
    data.update(extra)
    return browser.post(book_url(therapist, moment), data)


def shared_url(appointment: Appointment) -> str:
    return reverse("matching:shared_profile", args=[appointment.public_id])


def sharing_set_url(appointment: Appointment) -> str:
    return reverse("matching:sharing_set", args=[appointment.public_id])


def shared_appointment(therapist: TherapistProfile, client_user, **overrides) -> Appointment:
    fields = {
        "client": client_user,
        "client_email": CLIENT_EMAIL,
        "share_fit_profile": True,
    }
    fields.update(overrides)
    return make_appointment(therapist, **fields)


def access_entries(profile: FitProfile):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(FitProfile),
        object_pk=str(profile.pk),
        action=LogEntry.Action.ACCESS,
    )


# --- the booking form ----------------------------------------------------------------------------


def test_no_checkbox_for_anyone_without_a_fit_profile(therapist, client_user):
    moment = free_times_ahead(therapist)[0].starts_at

    anonymous = text(Client().get(book_url(therapist, moment)))
    without_profile = text(signed_in(client_user).get(book_url(therapist, moment)))

    for page in (anonymous, without_profile):
        assert 'name="share_fit_profile"' not in page
        assert "fit profile" not in page


def test_a_signed_in_person_with_a_fit_profile_gets_an_unticked_box_that_says_what_is_shared(
    therapist, client_user
):
    profile_for(client_user)
    moment = free_times_ahead(therapist)[0].starts_at

    page = text(signed_in(client_user).get(book_url(therapist, moment)))

    assert SHARE_LABEL in page
    box = page.split('name="share_fit_profile"', 1)[1].split(">", 1)[0]
    assert "checked" not in box
    assert 'aria-describedby="id_share_fit_profile-help"' in page
    help_text = page.split('id="id_share_fit_profile-help">', 1)[1].split("</p>", 1)[0]
    assert "in your own words" in help_text
    assert "Never what did not fit with past therapists" in help_text
    assert "stop sharing at any time" in help_text
    assert reverse("matching:sharing") in page


def test_an_anonymous_person_with_answers_in_the_session_is_told_to_sign_in_not_offered_a_box(
    therapist,
):
    browser = Client()
    session = browser.session
    session_answers_keep(session, fit_answers(story=STORY))
    session.save()
    moment = free_times_ahead(therapist)[0].starts_at

    page = text(browser.get(book_url(therapist, moment)))

    assert 'name="share_fit_profile"' not in page
    assert sharing.HOW_TO_SHARE in page
    assert reverse("account_login") in page


def test_booking_with_the_box_ticked_stores_the_choice_on_the_linked_consultation(
    therapist, client_user
):
    profile_for(client_user)

    response = book(signed_in(client_user), therapist, share_fit_profile="on")

    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert (appointment.share_fit_profile, appointment.client) == (True, client_user)


def test_booking_with_the_box_left_unticked_shares_nothing(therapist, client_user):
    profile_for(client_user)

    book(signed_in(client_user), therapist)

    assert Appointment.objects.get().share_fit_profile is False


def test_answers_typed_while_signed_out_become_the_profile_at_sign_in_and_can_be_shared(
    therapist, client_user
):
    browser = Client()
    session = browser.session
    session_answers_keep(session, fit_answers(story=STORY, concerns=["grief"]))
    session.save()
    browser.force_login(client_user)  # the sign-in makes them the account's profile
    assert SHARE_LABEL in text(
        browser.get(book_url(therapist, free_times_ahead(therapist)[0].starts_at))
    )

    book(browser, therapist, share_fit_profile="on")

    saved = fit_profile_answers(FitProfile.objects.get(owner=client_user))
    assert (saved.story, saved.concerns) == (STORY, ("grief",))
    assert Appointment.objects.get().share_fit_profile is True


def test_a_saved_profile_is_not_replaced_by_session_answers_at_booking(therapist, client_user):
    profile_for(client_user)
    browser = signed_in(client_user)
    session = browser.session
    session_answers_keep(session, fit_answers(story="Something else entirely."))
    session.save()

    book(browser, therapist, share_fit_profile="on")

    assert fit_profile_answers(FitProfile.objects.get(owner=client_user)).story == STORY


def test_sharing_while_booking_with_another_address_is_refused_at_the_field_and_writes_nothing(
    therapist, client_user
):
    profile_for(client_user)
    browser = signed_in(client_user)

    response = book(browser, therapist, email="someone.else@example.org", share_fit_profile="on")

    assert response.status_code == 400
    page = text(response)
    error = page.split('id="id_share_fit_profile-error">', 1)[1].split("</p>", 1)[0]
    assert "book with your account's confirmed e-mail address" in error
    assert 'aria-invalid="true"' in page.split('name="share_fit_profile"', 1)[1].split(">", 1)[0]
    assert not Appointment.objects.exists()
    assert fit_profile_answers(FitProfile.objects.get()).story == STORY


def test_a_taken_time_books_nothing_and_makes_no_profile_from_a_leftover_copy(
    therapist, client_user
):
    moment = free_times_ahead(therapist)[0].starts_at
    make_appointment(therapist, moment, client_email="first@example.org")
    browser = signed_in(client_user)
    session = browser.session
    session_answers_keep(session, fit_answers(story=STORY))
    session.save()

    response = browser.post(
        book_url(therapist, moment),
        {
            "client_name": "Sam",
            "client_email": CLIENT_EMAIL,
            "time_zone": "UTC",
            "share_fit_profile": "on",
        },
    )

    assert response.status_code in (400, 409)
    assert not FitProfile.objects.exists()
    assert Appointment.objects.count() == 1


# --- the therapist's page ------------------------------------------------------------------------


def test_the_therapist_reads_the_shared_profile_in_words_and_the_read_is_audited(
    therapist, client_user
):
    profile = profile_for(client_user)
    appointment = shared_appointment(therapist, client_user)
    assert therapist.user is not None

    response = signed_in(therapist.user).get(shared_url(appointment))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = text(response)
    for expected in (
        STORY,
        HOPES,
        "Concerns: Grief and loss, Anxiety",
        "Language: Punjabi (very important), required",
        "LGBTQ2S+ affirming (important)",
        "Structured",
        "Leaning towards “challenging”",
        "Up to CA$120 a session",
        "About 8 sessions",
        "Weekday evenings",
        "By video",
        "Near Winnipeg, MB",
    ):
        assert expected in page, expected
    # What did not fit with past therapists is the client's own; the radius is not shared.
    assert "I felt judged" not in page
    assert "felt_judged" not in page
    assert "Too directive" not in page
    # Not a bare "37": the page's links carry random ids that sometimes hold it.
    assert re.search(r"\b37\s*(km|kilomet)", page) is None
    (entry,) = access_entries(profile)
    assert entry.actor == therapist.user
    assert entry.additional_data == {"reason": sharing.AUDIT_REASON}


def test_each_read_is_one_more_audit_entry(therapist, client_user):
    profile = profile_for(client_user)
    appointment = shared_appointment(therapist, client_user)
    browser = signed_in(therapist.user)

    browser.get(shared_url(appointment))
    browser.get(shared_url(appointment))

    assert access_entries(profile).count() == 2


def test_another_therapist_gets_a_404_and_nothing_is_recorded_as_read(therapist, client_user):
    profile = profile_for(client_user)
    appointment = shared_appointment(therapist, client_user)
    other = make_bookable_therapist(display_name="Other", user=make_therapist_user(mfa=True))

    response = signed_in(other.user).get(shared_url(appointment))

    assert response.status_code == 404
    assert STORY not in text(response)
    assert not access_entries(profile).exists()


@pytest.mark.parametrize(
    "role",
    [None, {"role": "client"}, {"role": "staff", "mfa": True, "is_superuser": True}],
    ids=["anonymous", "another-client", "staff"],
)
def test_nobody_but_the_therapist_opens_the_page(therapist, client_user, role):
    profile = profile_for(client_user)
    appointment = shared_appointment(therapist, client_user, client_name="Private Client")
    browser = signed_in(make_user(**role)) if role else Client()

    response = browser.get(shared_url(appointment))

    assert response.status_code == 404
    assert "Private Client" not in text(response)
    assert not access_entries(profile).exists()


def test_the_client_cannot_open_the_therapists_page_either(therapist, client_user):
    profile_for(client_user)
    appointment = shared_appointment(therapist, client_user)

    assert signed_in(client_user).get(shared_url(appointment)).status_code == 404


def test_a_therapist_without_a_second_factor_is_sent_to_set_one_up(reference_data, client_user):
    therapist = make_bookable_therapist(display_name="No MFA", user=make_therapist_user())
    profile = profile_for(client_user)
    appointment = shared_appointment(therapist, client_user)

    response = signed_in(therapist.user).get(shared_url(appointment))

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert not access_entries(profile).exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"share_fit_profile": False},
        {"status": AppointmentStatus.DECLINED, "ended_by": "therapist"},
        {"status": AppointmentStatus.CANCELLED},
        {"status": AppointmentStatus.EXPIRED, "ended_by": "system"},
        {"client": None},
    ],
    ids=["not-shared", "declined", "cancelled", "expired", "no-account"],
)
def test_nothing_to_read_is_a_404(therapist, client_user, overrides):
    profile_for(client_user)
    appointment = shared_appointment(therapist, client_user, **overrides)

    assert signed_in(therapist.user).get(shared_url(appointment)).status_code == 404


def test_a_deleted_fit_profile_is_a_404(therapist, client_user):
    profile = profile_for(client_user)
    appointment = shared_appointment(therapist, client_user)
    profile.delete()

    assert signed_in(therapist.user).get(shared_url(appointment)).status_code == 404


def test_the_practice_page_links_the_shared_profile_only_on_rows_that_share(therapist, client_user):
    profile_for(client_user)
    shares = shared_appointment(therapist, client_user, client_name="Sam Sharer")
    quiet = make_appointment(
        therapist,
        shares.starts_at + dt.timedelta(hours=1),
        client_name="Quinn Quiet",
        client=make_user(role="client"),
        share_fit_profile=True,  # shares, but has no fit profile: nothing to link
    )
    signed_in(therapist.user).get(reverse("booking:practice_home"))  # the session's clocks

    page = text(signed_in(therapist.user).get(reverse("booking:practice_home")))

    sharer_row = page.split("Sam Sharer", 1)[1].split("</li>", 1)[0]
    quiet_row = page.split("Quinn Quiet", 1)[1].split("</li>", 1)[0]
    assert f'href="{shared_url(shares)}"' in sharer_row
    assert sharing.LINK_LABEL in sharer_row
    assert sharing.LINK_LABEL not in quiet_row
    assert shared_url(quiet) not in page


def test_the_links_cost_one_query_for_the_page_and_none_when_nobody_shares(
    therapist, client_user, django_assert_num_queries
):
    profile_for(client_user)
    rows = [
        shared_appointment(
            therapist, client_user, starts_at=timezone.now() + dt.timedelta(days=3, hours=index)
        )
        for index in range(5)
    ]
    quiet = [
        make_appointment(therapist, timezone.now() + dt.timedelta(days=9), share_fit_profile=False)
    ]

    with django_assert_num_queries(1):
        links = sharing.shared_profile_links(rows)
    with django_assert_num_queries(0):
        assert sharing.shared_profile_links(quiet) == {}

    assert set(links) == {row.pk for row in rows}


# --- withdrawing ---------------------------------------------------------------------------------


def test_after_withdrawal_the_therapist_gets_a_404_and_the_client_sees_it_withdrawn(
    therapist, client_user
):
    profile_for(client_user)
    appointment = shared_appointment(therapist, client_user)
    browser = signed_in(client_user)
    listing = text(browser.get(reverse("matching:sharing")))
    assert "Shared with Dana Reyes" in listing
    assert "Stop sharing" in listing

    response = browser.post(sharing_set_url(appointment), {"shared": "0"})

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.share_fit_profile is False
    assert signed_in(therapist.user).get(shared_url(appointment)).status_code == 404
    page = text(browser.get(response["Location"]))
    assert "You stopped sharing your fit profile with Dana Reyes" in page
    assert "Not shared" in page
    assert "Shared with Dana Reyes" not in page
    assert "Share again" in page


def test_withdrawing_from_a_consultation_withdraws_from_the_session_that_followed_it(
    therapist, client_user
):
    profile_for(client_user)
    now = timezone.now()
    consultation = shared_appointment(therapist, client_user, starts_at=now - dt.timedelta(days=2))
    session = shared_appointment(
        therapist,
        client_user,
        kind=AppointmentKind.SESSION,
        follows=consultation,
        starts_at=now + dt.timedelta(days=5),
    )

    signed_in(client_user).post(sharing_set_url(consultation), {"shared": "0"})

    session.refresh_from_db()
    assert session.share_fit_profile is False
    assert signed_in(therapist.user).get(shared_url(session)).status_code == 404


def test_sharing_again_opens_the_page_again(therapist, client_user):
    profile_for(client_user)
    appointment = shared_appointment(therapist, client_user, share_fit_profile=False)

    signed_in(client_user).post(sharing_set_url(appointment), {"shared": "1"})

    appointment.refresh_from_db()
    assert appointment.share_fit_profile is True
    assert signed_in(therapist.user).get(shared_url(appointment)).status_code == 200


def test_a_client_cannot_withdraw_or_share_someone_elses_consultation(therapist, client_user):
    profile_for(client_user)
    appointment = shared_appointment(therapist, client_user)
    stranger = make_user(role="client")
    profile_for(stranger)

    for choice in ("0", "1"):
        response = signed_in(stranger).post(sharing_set_url(appointment), {"shared": choice})
        assert response.status_code == 404
    appointment.refresh_from_db()
    assert appointment.share_fit_profile is True
    assert "Dana Reyes" not in text(signed_in(stranger).get(reverse("matching:sharing")))


def test_a_bad_choice_is_a_clear_message_and_changes_nothing(therapist, client_user):
    profile_for(client_user)
    appointment = shared_appointment(therapist, client_user)

    response = signed_in(client_user).post(sharing_set_url(appointment), {"shared": "maybe"})

    assert response.status_code == 400
    assert "Choose to share your fit profile or to stop." in text(response)
    appointment.refresh_from_db()
    assert appointment.share_fit_profile is True


def test_sharing_again_without_a_fit_profile_is_refused(therapist, client_user):
    appointment = shared_appointment(therapist, client_user, share_fit_profile=False)

    response = signed_in(client_user).post(sharing_set_url(appointment), {"shared": "1"})

    assert response.status_code == 409
    assert "You have no fit profile to share." in text(response)
    appointment.refresh_from_db()
    assert appointment.share_fit_profile is False


def test_the_sharing_pages_need_a_sign_in(therapist, client_user):
    appointment = shared_appointment(therapist, client_user)

    assert Client().get(reverse("matching:sharing")).status_code == 302
    assert Client().post(sharing_set_url(appointment), {"shared": "0"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.share_fit_profile is True


def test_the_service_withdraws_a_consultation_found_by_a_proved_address_but_shares_only_linked(
    therapist, client_user
):
    # Booked without signing in, with the address the account has proved: the person's own,
    # but linked to no account, so a therapist could never read a profile through it.
    appointment = make_appointment(
        therapist, client=None, client_email=CLIENT_EMAIL, share_fit_profile=True
    )

    services.appointment_fit_profile_sharing_set(
        appointment=appointment, client=client_user, shared=False
    )
    with pytest.raises(InvalidTransition, match="booked while signed in"):
        services.appointment_fit_profile_sharing_set(
            appointment=appointment, client=client_user, shared=True
        )

    appointment.refresh_from_db()
    assert appointment.share_fit_profile is False


def test_the_service_refuses_another_persons_appointment(therapist, client_user):
    appointment = shared_appointment(therapist, client_user)

    with pytest.raises(InvalidTransition):
        services.appointment_fit_profile_sharing_set(
            appointment=appointment, client=make_user(role="client"), shared=False
        )

    appointment.refresh_from_db()
    assert appointment.share_fit_profile is True


def test_a_withdrawal_is_in_the_audit_log(therapist, client_user):
    appointment = shared_appointment(therapist, client_user)

    services.appointment_fit_profile_sharing_set(
        appointment=appointment, client=client_user, shared=False
    )

    assert "share_fit_profile" in last_change_of(appointment)


# --- e-mails -------------------------------------------------------------------------------------


@pytest.mark.parametrize("requires_confirmation", [False, True], ids=["booked", "requested"])
def test_no_email_carries_anything_of_the_profile(therapist, client_user, requires_confirmation):
    therapist.booking_policy.requires_confirmation = requires_confirmation
    therapist.booking_policy.save()
    profile_for(client_user)

    book(signed_in(client_user), therapist, share_fit_profile="on")

    appointment = Appointment.objects.get()
    assert appointment.share_fit_profile is True
    emails = list(OutboxEmail.objects.filter(appointment=appointment))
    assert {email.recipient for email in emails} == {"client", "therapist"}
    now = timezone.now()
    for email in emails:
        message = outbox.build_message(email, now=now)
        whole = f"{message.subject}\n{message.body}\n" + "\n".join(
            str(part) for part in message.attachments
        )
        for secret in (STORY, HOPES, "Grief", "grief", "Punjabi", "CA$120", "Winnipeg", "judged"):
            assert secret not in whole, (email.purpose, email.recipient, secret)
    to_therapist = next(email for email in emails if email.recipient == "therapist")
    body = outbox.build_message(to_therapist, now=now).body
    assert "Sam chose to share their fit profile with you" in body
