"""How consultations happen, on the two pages that did not say it yet: each row of the
therapist's practice page (phone, video and in person alike) and the therapist's public profile
(which never shows the meeting link or a number). The expected sentences are written out by
hand here, not built from how.py."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.booking.models import AppointmentKind, BookingPolicy, ConsultationMethod
from rapport.directory.models import TherapistProfile
from tests.accounts.factories import make_therapist_user
from tests.booking.factories import make_appointment, make_bookable_therapist
from tests.directory.factories import make_office
from tests.html_tree import Node, page_tree

pytestmark = pytest.mark.django_db

LINK = "https://meet.example.org/dana-reyes"
PHONE = "416 555 0188"
ADDRESS = "100 Queen St W, Toronto, Ontario M5H 2N2"


def _shows_the_number(body: str) -> bool:
    """The client's number written any way (555 0188, 555-0188, +14165550188); not its last
    four digits alone, which an id or a timestamp in the page may contain."""
    return re.search(r"555\D?0188", body) is not None


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    therapist = make_bookable_therapist(
        display_name="Dana Reyes", user=make_therapist_user(mfa=True)
    )
    office = make_office(therapist)
    # The link and the office both set: each appointment keeps the method it was booked with.
    BookingPolicy.objects.filter(therapist=therapist).update(
        consultation_method=ConsultationMethod.VIDEO, meeting_link=LINK, office=office
    )
    return therapist


def _rows(page: Node) -> dict[str, Node]:
    """Each appointment row of the practice page, by the client's name."""
    rows = {}
    for item in page.find_all("li", **{"class": "appointment"}):
        [name] = item.find_all("h3")
        rows[name.text().split(" ·")[0].strip()] = item
    return rows


def _plain(node: Node) -> str:
    """The text as a reader sees it (Node.text() puts a space between every element's text,
    also before the full stop after a link)."""
    joined = "".join(child if isinstance(child, str) else _plain(child) for child in node.children)
    return " ".join(html.unescape(joined).split())


def _how(row: Node) -> str | None:
    found = row.find_all("p", **{"class": "appointment__how"})
    return _plain(found[0]) if found else None


def test_every_consultation_row_says_how_it_happens(therapist):
    first = (timezone.now() + dt.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    hour = dt.timedelta(hours=1)
    make_appointment(
        therapist,
        first,
        client_name="Pat Phone",
        consultation_method=ConsultationMethod.PHONE,
        client_phone=PHONE,
    )
    make_appointment(
        therapist,
        first + hour,
        client_name="Vic Video",
        consultation_method=ConsultationMethod.VIDEO,
    )
    make_appointment(
        therapist,
        first + 2 * hour,
        client_name="Ines Inperson",
        consultation_method=ConsultationMethod.IN_PERSON,
    )
    make_appointment(therapist, first + 3 * hour, client_name="Una Unset", consultation_method="")
    make_appointment(
        therapist, first + 4 * hour, client_name="Sol Session", kind=AppointmentKind.SESSION
    )
    signed_in = Client()
    signed_in.force_login(therapist.user)

    page = page_tree(signed_in.get(reverse("booking:practice_home")).content.decode())
    rows = _rows(page)

    assert _how(rows["Pat Phone"]) == f"Phone call. You call Pat on {PHONE}."
    video = _how(rows["Vic Video"])
    assert video is not None
    assert video.startswith("Video call. With Vic, on your meeting link. Open your meeting link")
    assert _how(rows["Ines Inperson"]) == f"In person. With Ines, at your office: {ADDRESS}."
    assert _how(rows["Una Unset"]) == (
        "To be arranged. Tell Una how the consultation happens: you have not set a method, or "
        "its link or office is missing, on your availability page."
    )
    # A session's place is agreed between the two of them, not by the booking.
    assert _how(rows["Sol Session"]) is None
    # The number is a link the phone can dial; the meeting link opens the therapist's room.
    [dial] = [a for a in rows["Pat Phone"].find_all("a") if a.attrs["href"].startswith("tel:")]
    assert dial.attrs["href"] == "tel:4165550188"
    assert [
        a.attrs["href"] for a in rows["Vic Video"].find_all("a") if "meet" in a.attrs["href"]
    ] == [LINK]
    # Only the phone row carries a number.
    assert all("555" not in (_how(rows[name]) or "") for name in ("Vic Video", "Ines Inperson"))


def test_a_phone_row_whose_client_was_erased_does_not_point_to_a_number(therapist):
    make_appointment(
        therapist, client_name="", client_email="", consultation_method=ConsultationMethod.PHONE
    )
    signed_in = Client()
    signed_in.force_login(therapist.user)

    page = page_tree(signed_in.get(reverse("booking:practice_home")).content.decode())

    [row] = page.find_all("li", **{"class": "appointment"})
    assert _how(row) == "Phone call. The client's number is no longer kept."
    assert not [a for a in row.find_all("a") if a.attrs["href"].startswith("tel:")]


def test_another_therapist_sees_neither_the_number_nor_the_rows(therapist):
    make_appointment(
        therapist,
        client_name="Pat Phone",
        consultation_method=ConsultationMethod.PHONE,
        client_phone=PHONE,
    )
    other = make_bookable_therapist(display_name="Lee Other", user=make_therapist_user(mfa=True))
    assert other.user is not None
    signed_in = Client()
    signed_in.force_login(other.user)

    page = signed_in.get(reverse("booking:practice_home")).content.decode()

    assert "Pat Phone" not in page
    assert not _shows_the_number(page)


# --- the public profile --------------------------------------------------------------------------


def _profile_sentences(client: Client, therapist: TherapistProfile) -> list[str]:
    response = client.get(reverse("directory:therapist_detail", args=[therapist.public_id]))
    assert response.status_code == 200
    panel = page_tree(response.content.decode()).get("consultation")
    return [_plain(p) for p in panel.find_all("p")]


@pytest.mark.parametrize(
    ("method", "sentence"),
    [
        (
            ConsultationMethod.PHONE,
            "Free consultations are by phone: Dana Reyes calls you, on the number you give "
            "when booking (only Dana Reyes sees it).",
        ),
        (
            ConsultationMethod.VIDEO,
            "Free consultations are by video, on Dana Reyes's own meeting link: you get it when "
            "you book.",
        ),
        (
            ConsultationMethod.IN_PERSON,
            f"Free consultations are in person, at Dana Reyes's office: {ADDRESS}.",
        ),
        (
            "",
            "Dana Reyes will let you know how the consultation happens (phone, video or in "
            "person) when you book.",
        ),
    ],
    ids=["phone", "video", "in-person", "unset"],
)
def test_the_profile_says_how_free_consultations_happen(client, therapist, method, sentence):
    BookingPolicy.objects.filter(therapist=therapist).update(consultation_method=method)
    make_appointment(therapist, consultation_method=ConsultationMethod.PHONE, client_phone=PHONE)

    assert sentence in _profile_sentences(client, therapist)

    profile = client.get(reverse("directory:therapist_detail", args=[therapist.public_id]))
    api = client.get(f"/api/v1/therapists/{therapist.public_id}")
    assert api.status_code == 200
    for response in (profile, api):
        body = response.content.decode()
        # Never the meeting link (only a booked client gets it) nor a client's number.
        assert "meet.example.org" not in body
        assert not _shows_the_number(body)


def test_a_video_method_without_a_link_is_not_promised_as_video(client, therapist):
    BookingPolicy.objects.filter(therapist=therapist).update(meeting_link="")

    sentences = _profile_sentences(client, therapist)

    assert not any("by video" in sentence for sentence in sentences)
    assert (
        "Dana Reyes will let you know how the consultation happens (phone, video or in person) "
        "when you book." in sentences
    )


def test_no_free_consultation_no_sentence(client, therapist):
    TherapistProfile.objects.filter(pk=therapist.pk).update(consultation_minutes=0)

    response = client.get(reverse("directory:therapist_detail", args=[therapist.public_id]))

    assert "Free consultations are" not in response.content.decode()
    assert "will let you know how the consultation happens" not in response.content.decode()
