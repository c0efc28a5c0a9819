"""The client's side of repair: guidance after a low check-in, and "this isn't the right fit".

Low and good alliance totals from the built-in alliance check-in's (synthetic) norms, by hand:
the cutoff is 2.5 (a total at it is low); six answers of 2 score 2.0 (low), six of 4 score 4.0
(not low); a drop from 4.0 to 3.0 is 1.0, past the reliable-change line of about 0.859, while
3.0 itself is not low.
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from rapport.care import client_repair, history, services
from rapport.care.models import (
    MAX_REASON_LENGTH,
    CheckIn,
    CheckInStatus,
    EndedFor,
    Engagement,
    EngagementStatus,
    SessionStatus,
    Sharing,
    Side,
)
from rapport.care.services.engagements import ALREADY_ENDED
from rapport.care.tokens import check_in_token_make
from tests.accounts.factories import make_therapist_user, make_user
from tests.care.factories import make_engagement
from tests.directory.factories import make_therapist

pytestmark = pytest.mark.django_db

FIT = {"understood": 4, "open": 4, "focus": 4, "continue": 4}
PROGRESS = {
    "energy": 2,
    "getting-things-done": 2,
    "enjoyment": 2,
    "connection": 2,
    "looking-after-myself": 2,
    "safety": 0,
}


def alliance(value: int) -> dict[str, int]:
    """Every alliance answer scoring ``value`` (bond-holding-back is reverse-scored)."""
    return {
        "bond-at-ease": value,
        "bond-holding-back": 6 - value,
        "goals-what-matters": value,
        "goals-direction": value,
        "tasks-makes-sense": value,
        "tasks-take-away": value,
    }


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def attend(engagement: Engagement) -> None:
    services.session_record(
        engagement=engagement,
        starts_at=timezone.now() - dt.timedelta(hours=2),
        status=SessionStatus.ATTENDED,
        recorded_by=engagement.therapist.user,
    )


def open_check_in(engagement: Engagement) -> CheckIn:
    return CheckIn.objects.get(engagement=engagement, status=CheckInStatus.OPEN)


def form_data(check_in: CheckIn, alliance_value: int) -> dict[str, str]:
    answers = {"fit": FIT, "alliance": alliance(alliance_value), "progress": PROGRESS}
    return {
        f"{part.purpose}-{item}": str(value)
        for part in check_in.parts.all()
        for item, value in answers[part.purpose].items()
    }


def answer_by_service(engagement: Engagement, alliance_value: int) -> CheckIn:
    check_in = open_check_in(engagement)
    answers = {"fit": FIT, "alliance": alliance(alliance_value), "progress": PROGRESS}
    services.check_in_answer(
        check_in=check_in,
        answers={part.purpose: answers[part.purpose] for part in check_in.parts.all()},
        goal_ratings={},
    )
    return check_in


def with_alliance(sharing: str = Sharing.SCORES_ONLY) -> Engagement:
    """After the first attended session: the open check-in asks the alliance."""
    engagement = make_engagement(status=EngagementStatus.ONGOING, sharing=sharing)
    attend(engagement)
    assert open_check_in(engagement).parts.filter(purpose="alliance").exists()
    return engagement


class _Sections(HTMLParser):
    """The text and links of the repair section (the one labelled by "repair-heading")."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.inside = False
        self.text: list[str] = []
        self.items = 0
        self.links: list[str] = []
        self.forms: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "section" and attributes.get("aria-labelledby") == "repair-heading":
            self.inside = True
        if not self.inside:
            return
        if tag == "section":
            self.depth += 1
        if tag == "li":
            self.items += 1
        if tag == "a":
            self.links.append(attributes.get("href") or "")
        if tag == "form":
            self.forms.append(attributes.get("action") or "")

    def handle_endtag(self, tag):
        if self.inside and tag == "section":
            self.depth -= 1
            if self.depth == 0:
                self.inside = False

    def handle_data(self, data):
        if self.inside:
            self.text.append(data)


def repair_section(response) -> _Sections | None:
    parser = _Sections()
    parser.feed(response.content.decode())
    return parser if parser.items or parser.text else None


# --- guidance after a low check-in ----------------------------------------------------------


@pytest.mark.parametrize("sharing", [Sharing.ITEM_ANSWERS, Sharing.SCORES_ONLY, Sharing.NOTHING])
def test_a_low_check_in_shows_the_client_what_to_say_and_a_way_out(reference_data, sharing):
    engagement = with_alliance(sharing)
    check_in = open_check_in(engagement)
    client = as_user(engagement.client)

    posted = client.post(f"/care/check-ins/{check_in.public_id}/", form_data(check_in, 2))
    assert posted.status_code == 302
    response = client.get(posted["Location"])

    section = repair_section(response)
    assert section is not None
    text = " ".join(section.text)
    assert "more common than you might think" in text
    assert "worth saying" in text
    assert section.items == 4  # the conversation starters
    assert "Strong feelings toward a therapist" in text
    assert "normal" in text
    assert "/guide/giving-feedback/" in section.links
    assert section.forms == [f"/care/{engagement.public_id}/not-the-right-fit/"]
    assert 'name="reason"' in response.content.decode()


def test_a_good_check_in_shows_no_guidance(reference_data):
    engagement = with_alliance()
    check_in = open_check_in(engagement)
    client = as_user(engagement.client)

    posted = client.post(f"/care/check-ins/{check_in.public_id}/", form_data(check_in, 4))
    response = client.get(posted["Location"])

    assert response.status_code == 200
    assert repair_section(response) is None
    assert "not-the-right-fit" not in response.content.decode()


def test_a_reliable_drop_shows_the_guidance_though_the_score_is_not_low(reference_data):
    engagement = with_alliance(Sharing.NOTHING)
    answer_by_service(engagement, 4)  # 4.0
    attend(engagement)
    second = answer_by_service(engagement, 3)  # 3.0: down 1.0, reliable; not low

    response = as_user(engagement.client).get(f"/care/check-ins/{second.public_id}/")

    assert repair_section(response) is not None
    records = history.for_client(engagement=engagement)
    assert client_repair.low_check_in_guidance(records) is not None
    # The earlier, good check-in is judged on what came before it: no guidance on its page.
    first = records[0].check_in
    earlier = as_user(engagement.client).get(f"/care/check-ins/{first.public_id}/")
    assert repair_section(earlier) is None
    assert client_repair.low_check_in_guidance(records[:1]) is None


def test_an_older_good_check_in_page_shows_no_guidance(reference_data):
    engagement = with_alliance()
    first = answer_by_service(engagement, 4)
    attend(engagement)
    answer_by_service(engagement, 2)  # the later one is low

    response = as_user(engagement.client).get(f"/care/check-ins/{first.public_id}/")

    assert repair_section(response) is None


def test_the_link_shows_the_guidance_without_the_form_or_names(reference_data):
    engagement = with_alliance(Sharing.NOTHING)
    check_in = open_check_in(engagement)
    link = f"/care/check-ins/link/{check_in_token_make(check_in=check_in)}/"

    response = Client().post(link, form_data(check_in, 1))

    assert response.status_code == 200
    section = repair_section(response)
    assert section is not None
    assert section.items == 4
    assert "/guide/giving-feedback/" in section.links
    assert section.forms == []
    body = response.content.decode()
    assert "not-the-right-fit" not in body
    assert engagement.therapist.display_name not in body


def test_the_guidance_after_a_good_check_in_by_link_is_not_shown(reference_data):
    engagement = with_alliance()
    check_in = open_check_in(engagement)
    link = f"/care/check-ins/link/{check_in_token_make(check_in=check_in)}/"

    response = Client().post(link, form_data(check_in, 5))

    assert response.status_code == 200
    assert repair_section(response) is None


def test_no_form_once_the_engagement_has_ended(reference_data):
    engagement = with_alliance()
    check_in = answer_by_service(engagement, 2)
    services.engagement_end(engagement=engagement, by=Side.THERAPIST, reason="Moving away")

    response = as_user(engagement.client).get(f"/care/check-ins/{check_in.public_id}/")

    section = repair_section(response)
    assert section is not None
    assert section.forms == []


# --- "this isn't the right fit" -------------------------------------------------------------


def fit_url(engagement: Engagement) -> str:
    return f"/care/{engagement.public_id}/not-the-right-fit/"


def test_one_click_ends_for_not_the_right_fit_and_withdraws_check_ins(reference_data):
    engagement = with_alliance()
    waiting = open_check_in(engagement)

    response = as_user(engagement.client).post(fit_url(engagement), {"reason": ""})

    assert response.status_code == 200
    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.status == EngagementStatus.ENDED
    assert stored.ended_for == EndedFor.NOT_THE_RIGHT_FIT
    assert stored.ended_by == Side.CLIENT
    assert stored.ended_at is not None
    # A blank reason stores the choice's own words, so the therapist still reads why.
    assert stored.end_reason == "It isn't the right fit"
    waiting.refresh_from_db()
    assert waiting.status == CheckInStatus.WITHDRAWN
    body = response.content.decode()
    assert "Find someone new" in body
    assert 'href="/therapists/"' in body
    assert 'href="/guide/why-fit-matters/"' in body
    assert "suggest someone different" in body


def test_the_reason_given_is_kept(reference_data):
    engagement = with_alliance()

    as_user(engagement.client).post(fit_url(engagement), {"reason": "  We never clicked.  "})

    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.end_reason == "We never clicked."
    assert stored.ended_for == EndedFor.NOT_THE_RIGHT_FIT


def test_too_long_a_reason_is_refused_at_the_field_and_nothing_ends(reference_data):
    engagement = with_alliance()

    response = as_user(engagement.client).post(
        fit_url(engagement), {"reason": "x" * (MAX_REASON_LENGTH + 1)}
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert re.search(r'id="id_reason-error">[^<]+<', body)
    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.status == EngagementStatus.ONGOING
    assert stored.ended_for == ""
    assert open_check_in(engagement).status == CheckInStatus.OPEN


def test_ending_twice_says_it_already_ended_and_changes_nothing(reference_data):
    engagement = with_alliance()
    client = as_user(engagement.client)
    client.post(fit_url(engagement), {"reason": "First"})
    before = Engagement.objects.get(pk=engagement.pk)

    again = client.post(fit_url(engagement), {"reason": "Second"})

    assert again.status_code == 409
    assert "already ended" in again.content.decode()
    after = Engagement.objects.get(pk=engagement.pk)
    assert (after.end_reason, after.ended_at) == (before.end_reason, before.ended_at)


def test_someone_elses_engagement_is_not_found(reference_data):
    engagement = with_alliance()
    another_client = make_user(role="client")
    another_therapist = make_therapist(user=make_therapist_user(mfa=True))

    for user in (another_client, another_therapist.user, engagement.therapist.user):
        assert as_user(user).post(fit_url(engagement), {"reason": ""}).status_code == 404

    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.status == EngagementStatus.ONGOING
    assert stored.end_reason == ""


def test_post_only_with_csrf_and_signed_in(reference_data):
    engagement = with_alliance()
    assert as_user(engagement.client).get(fit_url(engagement)).status_code == 405
    assert Client().post(fit_url(engagement), {"reason": ""}).status_code == 302
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(engagement.client)
    assert guarded.post(fit_url(engagement), {"reason": ""}).status_code == 403
    assert Engagement.objects.get(pk=engagement.pk).status == EngagementStatus.ONGOING


# --- the services ---------------------------------------------------------------------------


def test_engagement_end_stores_why_as_a_choice(reference_data):
    ended = services.engagement_end(
        engagement=make_engagement(), by=Side.THERAPIST, reason="Retiring"
    )
    assert ended.ended_for == EndedFor.OTHER
    chosen = services.engagement_end(
        engagement=make_engagement(),
        by=Side.CLIENT,
        reason="Not for me",
        ended_for=EndedFor.NOT_THE_RIGHT_FIT,
    )
    assert chosen.ended_for == EndedFor.NOT_THE_RIGHT_FIT


def test_an_unknown_ended_for_is_refused_and_nothing_is_written(reference_data):
    engagement = make_engagement()
    with pytest.raises(ValidationError) as raised:
        services.engagement_end(engagement=engagement, by=Side.CLIENT, reason="x", ended_for="bad")
    assert "ended_for" in raised.value.message_dict
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.FIT_CHECK
    assert engagement.ended_for == ""


def test_the_one_click_service_refuses_an_ended_engagement_as_already_ended(reference_data):
    engagement = make_engagement()
    services.engagement_end_not_right_fit(engagement=engagement, by=Side.CLIENT)
    with pytest.raises(ValidationError) as raised:
        services.engagement_end_not_right_fit(engagement=engagement, by=Side.CLIENT)
    assert raised.value.code == ALREADY_ENDED


def test_an_engagement_ended_for_another_reason_makes_no_promise_about_matching(reference_data):
    engagement = with_alliance()
    services.engagement_end(engagement=engagement, by=Side.THERAPIST, reason="Retiring")

    response = as_user(engagement.client).post(fit_url(engagement), {"reason": ""})

    assert response.status_code == 409
    body = response.content.decode()
    assert "already ended" in body
    assert "Find someone new" in body
    assert "suggest someone different" not in body
    assert Engagement.objects.get(pk=engagement.pk).ended_for == EndedFor.OTHER
