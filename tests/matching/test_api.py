"""/api/v1/fit-profiles, /api/v1/match and /api/v1/match/feedback: one validator for fit
profiles (answers_from_data) whose refusals are 400 problems naming the field with nothing
stored, someone else's profile or engagement a 404, an open /match that needs no CSRF token,
exposure counted once per first page, and an OpenAPI document that describes every field."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.care.models import EndedFor, EngagementStatus
from rapport.core.geo import distance_km, geocode
from rapport.directory.models import STYLE_DIMENSIONS, Concern
from rapport.matching import ranking
from rapport.matching.answers import ANSWER_KEYS, MisfitReason, PreferenceKey
from rapport.matching.api_schemas import (
    FitProfileIn,
    FitProfileOut,
    MatchIn,
    MatchListOut,
    PreferencesIn,
    StyleIn,
)
from rapport.matching.models import Exposure, FitProfile
from tests.care.factories import make_engagement
from tests.factories import make_licence, make_office, make_therapist, make_user

pytestmark = pytest.mark.usefixtures("reference_data")

PROBLEM = "application/problem+json"
PROFILES = "/api/v1/fit-profiles"
MATCH = "/api/v1/match"
FEEDBACK = "/api/v1/match/feedback"
MINIMAL = {"place": "Toronto, ON", "concerns": ["anxiety"], "budget_per_session": 150}
FULL = {
    "story": "Work has been hard since the move.",
    "hopes": "Sleep through the night.",
    "concerns": ["anxiety", "grief"],
    "preferences": {
        "language": {"weight": 3, "values": ["fr"]},
        "gender": {"weight": 1, "values": ["woman", "non_binary"]},
        "lgbtq2s_affirming": {"weight": 2},
    },
    "language_required": False,
    "style": {"style_structure": 2, "style_humour": 4},
    "style_weight": 1,
    "budget_per_session": 140,
    "sessions_affordable": 8,
    "availability": ["weekday_evening", "weekend"],
    "delivery": ["video"],
    "place": "Toronto, ON",
    "radius_km": 30,
    "did_not_fit": [],
}
# FULL as stored and answered: preferences in key order, each with its (maybe empty) values.
FULL_STORED = {
    **FULL,
    "preferences": {
        "gender": {"weight": 1, "values": ["woman", "non_binary"]},
        "language": {"weight": 3, "values": ["fr"]},
        "lgbtq2s_affirming": {"weight": 2, "values": []},
    },
}


@pytest.fixture(autouse=True)
def _steady_ranking(preferences_only: None) -> None:
    """Orders from preferences alone, so a test may say who comes first."""


def _as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _send(client: Client, method: str, url: str, body: Any) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return getattr(client, method)(url, data=data, content_type="application/json")


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    problem: dict[str, Any] = json.loads(response.content)
    assert problem["status"] == status
    return problem


def _field(response: Any) -> str:
    problem = _problem(response, 400)
    [error] = problem["errors"]
    assert error["message"]
    field: str = error["field"]
    return field


def _stored(profile: FitProfile) -> dict[str, Any]:
    profile.refresh_from_db()
    stored: dict[str, Any] = json.loads(profile.answers)
    return stored


# --- fit profiles ----------------------------------------------------------------------------


def test_a_fit_profile_round_trip_create_read_replace_delete() -> None:
    user = make_user(role="client")
    client = _as(user)

    created = _send(client, "post", PROFILES, FULL)

    assert created.status_code == 201, created.content[:500]
    assert "no-store" in created["Cache-Control"]
    body = created.json()
    FitProfileOut.model_validate(body)
    profile = FitProfile.objects.get(owner=user)
    assert body["id"] == str(profile.public_id)
    # Every field comes back as sent (the document is the one stored).
    assert body["answers"] == FULL_STORED
    assert _stored(profile) == FULL_STORED

    read = client.get(f"{PROFILES}/{profile.public_id}")
    assert read.status_code == 200
    assert read.json() == body

    replaced = _send(client, "put", f"{PROFILES}/{profile.public_id}", MINIMAL)
    assert replaced.status_code == 200, replaced.content[:500]
    answers = replaced.json()["answers"]
    # A replacement: what was left out is cleared, not kept.
    assert answers["concerns"] == ["anxiety"]
    assert answers["story"] == ""
    assert answers["preferences"] == {}
    assert answers["budget_per_session"] == 150
    assert _stored(profile)["story"] == ""
    assert replaced.json()["id"] == body["id"]

    deleted = client.delete(f"{PROFILES}/{profile.public_id}")
    assert deleted.status_code == 204
    assert not FitProfile.objects.filter(owner=user).exists()
    _problem(client.get(f"{PROFILES}/{profile.public_id}"), 404)


def test_reading_a_fit_profile_is_audited() -> None:
    from auditlog.models import LogEntry

    user = make_user(role="client")
    client = _as(user)
    profile_id = _send(client, "post", PROFILES, FULL).json()["id"]
    before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()

    client.get(f"{PROFILES}/{profile_id}")

    reads = LogEntry.objects.filter(action=LogEntry.Action.ACCESS)
    assert reads.count() == before + 1
    entry = reads.order_by("-pk").first()
    assert entry is not None
    assert entry.actor == user
    # The log says what was read, never what it says.
    assert "Work has been hard" not in json.dumps(entry.changes or {})


def test_a_second_profile_is_a_conflict_that_points_to_put() -> None:
    user = make_user(role="client")
    client = _as(user)
    first = _send(client, "post", PROFILES, MINIMAL).json()

    second = _send(client, "post", PROFILES, FULL)

    problem = _problem(second, 409)
    assert problem["fit_profile_id"] == first["id"]
    assert f"PUT /api/v1/fit-profiles/{first['id']}" in problem["detail"]
    assert FitProfile.objects.filter(owner=user).count() == 1
    assert _stored(FitProfile.objects.get(owner=user))["story"] == ""  # unchanged


def test_someone_elses_profile_is_not_found_and_stays_as_it_was() -> None:
    owner = make_user(role="client")
    profile_id = _send(_as(owner), "post", PROFILES, FULL).json()["id"]
    profile = FitProfile.objects.get(owner=owner)
    stranger = _as(make_user(role="client"))
    url = f"{PROFILES}/{profile_id}"

    answers = [
        stranger.get(url),
        _send(stranger, "put", url, MINIMAL),
        stranger.delete(url),
        # A malformed id is as unknown as someone else's.
        stranger.get(f"{PROFILES}/not-a-uuid"),
        _as(owner).get(f"{PROFILES}/{uuid.uuid4()}"),
    ]

    for response in answers:
        _problem(response, 404)
    assert _stored(profile) == FULL_STORED
    assert FitProfile.objects.count() == 1


def test_fit_profiles_need_a_sign_in() -> None:
    anonymous = Client()
    _problem(_send(anonymous, "post", PROFILES, MINIMAL), 401)
    _problem(anonymous.get(f"{PROFILES}/{uuid.uuid4()}"), 401)
    assert FitProfile.objects.count() == 0


def test_writing_a_fit_profile_needs_the_csrf_token() -> None:
    user = make_user(role="client")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = _send(client, "post", PROFILES, MINIMAL)

    _problem(response, 403)
    assert FitProfile.objects.count() == 0


BAD_BODIES = [
    pytest.param(b'{"place": "Toronto",', "", id="malformed JSON"),
    pytest.param(b'{"place": "A", "place": "B"}', "", id="a key given twice"),
    pytest.param(b'{"budget_per_session": NaN}', "", id="NaN"),
    pytest.param([1, 2], "", id="not an object"),
    pytest.param(b"[" * 50_000, "", id="nested too deeply"),
    pytest.param(b'{"story": "\\ud800"}', "", id="a lone surrogate"),
    pytest.param(b"\xff\xfe{", "", id="not UTF-8"),
    pytest.param({"concerns": "anxiety"}, "concerns", id="a string for a list"),
    pytest.param({"budget_per_session": "cheap"}, "budget_per_session", id="a word for a number"),
    pytest.param({"budget_per_session": 12.5}, "budget_per_session", id="a fraction"),
    pytest.param({"language_required": "yes"}, "language_required", id="a word for a flag"),
    pytest.param({"style": [1, 2]}, "style", id="a list for the style"),
    pytest.param({"favourite_colour": "blue"}, "favourite_colour", id="an unknown field"),
    pytest.param({"preferences": {"height": {"weight": 1}}}, "preferences.height", id="unknown"),
    pytest.param({"style": {"style_volume": 3}}, "style.style_volume", id="unknown dimension"),
    pytest.param({"concerns": ["not-a-concern"]}, "concerns", id="unknown concern"),
    pytest.param(
        {"preferences": {"language": {"weight": 2, "values": ["klingon"]}}},
        "preferences.language.values",
        id="unknown language",
    ),
    pytest.param(
        {"preferences": {"gender": {"weight": 2, "values": ["undisclosed"]}}},
        "preferences.gender.values",
        id="a gender one cannot ask for",
    ),
    pytest.param(
        {"preferences": {"faith": {"weight": 7, "values": ["buddhist"]}}},
        "preferences.faith.weight",
        id="weight 7",
    ),
    pytest.param(
        {"preferences": {"language": {"weight": 2}}},
        "preferences.language.values",
        id="a weight without values",
    ),
    pytest.param({"style_weight": -1}, "style_weight", id="style weight -1"),
    pytest.param({"style": {"style_humour": 6}}, "style.style_humour", id="style 6"),
    pytest.param({"budget_per_session": -1}, "budget_per_session", id="budget -1"),
    pytest.param({"budget_per_session": 10_001}, "budget_per_session", id="budget too high"),
    pytest.param({"radius_km": 0}, "radius_km", id="radius 0"),
    pytest.param({"sessions_affordable": 0}, "sessions_affordable", id="no sessions"),
    pytest.param({"availability": ["midnight"]}, "availability", id="unknown time"),
    pytest.param({"delivery": ["carrier_pigeon"]}, "delivery", id="unknown delivery"),
    pytest.param({"did_not_fit": ["too_tall"]}, "did_not_fit", id="unknown misfit reason"),
    pytest.param({"language_required": True}, "language_required", id="required, none given"),
    pytest.param({"story": "x" * 2001}, "story", id="a story too long"),
    pytest.param({"place": "Toronto\x00"}, "place", id="a NUL character"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_stored(body: Any, field: str) -> None:
    user = make_user(role="client")
    client = _as(user)

    assert _field(_send(client, "post", PROFILES, body)) == field
    assert FitProfile.objects.count() == 0

    # The same refusal on a replacement, which leaves the stored answers alone.
    profile_id = _send(client, "post", PROFILES, FULL).json()["id"]
    profile = FitProfile.objects.get(owner=user)
    updated_at = profile.updated_at
    assert _field(_send(client, "put", f"{PROFILES}/{profile_id}", body)) == field
    assert _stored(profile) == FULL_STORED
    assert profile.updated_at == updated_at


def test_a_refusal_says_what_is_wrong_in_words() -> None:
    response = _send(
        _as(make_user(role="client")),
        "post",
        PROFILES,
        {"preferences": {"language": {"weight": 2, "values": ["klingon"]}}},
    )
    problem = _problem(response, 400)
    assert problem["detail"] == "“klingon” is not one of the options we know."
    assert problem["title"] == "Invalid request"


def test_an_empty_profile_is_valid() -> None:
    response = _send(_as(make_user(role="client")), "post", PROFILES, {})
    assert response.status_code == 201
    assert response.json()["answers"]["concerns"] == []


# --- the ranked list -------------------------------------------------------------------------


NEXT_CONSULTATION = dt.datetime(2099, 3, 4, 15, 30, tzinfo=dt.UTC)


@pytest.fixture
def toronto() -> dict[str, Any]:
    """Four therapists licensed in Ontario (the factories' default); three meet the minimal
    profile's hard constraints (fee or sliding-scale floor within CA$150, accepting)."""
    fits = make_therapist(
        display_name="Amara Fits",
        concerns=["anxiety"],
        fee_minor=12000,
        offers_in_person=True,
        next_consultation_at=NEXT_CONSULTATION,
    )
    make_office(fits)
    other = make_therapist(display_name="Bo Nearby", concerns=["grief"], fee_minor=10000)
    sliding = make_therapist(
        display_name="Cy Sliding",
        concerns=["anxiety", "grief"],
        fee_minor=20000,
        sliding_scale_min_minor=9000,
    )
    dear = make_therapist(display_name="Dee Dear", concerns=["anxiety"], fee_minor=20000)
    in_bc = make_therapist(display_name="Ed in BC", concerns=["anxiety"], fee_minor=9000)
    in_bc.licences.all().delete()
    make_licence(in_bc, jurisdiction_id="CA-BC", regulator="BCACC")
    return {"fits": fits, "other": other, "sliding": sliding, "dear": dear, "in_bc": in_bc}


def test_the_minimal_inline_profile_answers_with_results_and_their_reasons(toronto) -> None:
    response = _send(Client(), "post", MATCH, MINIMAL)

    assert response.status_code == 200, response.content[:500]
    body = response.json()
    MatchListOut.model_validate(body)
    names = [result["therapist"]["name"] for result in body["results"]]
    # Within budget and licensed in Ontario: not the CA$200 one without a sliding scale, nor
    # the one licensed in British Columbia only.
    assert sorted(names) == ["Amara Fits", "Bo Nearby", "Cy Sliding"]
    assert (body["total"], body["page"], body["pages"]) == (3, 1, 1)
    assert body["place"]
    assert body["relax"] == []
    # Both who list anxiety come before the one who does not.
    assert names[2] == "Bo Nearby"
    first = next(r for r in body["results"] if r["therapist"]["name"] == "Amara Fits")
    fits = toronto["fits"]
    assert first["therapist"]["id"] == str(fits.public_id)
    assert first["therapist"]["profile_url"] == f"/therapists/{fits.public_id}/"
    assert first["therapist"]["fee"] == "CA$120"
    assert first["next_free_consultation"] == "2099-03-04T15:30:00Z"
    office = fits.offices.get()
    here = geocode("Toronto, ON")
    expected_km = distance_km(office.latitude, office.longitude, here.latitude, here.longitude)
    assert first["distance_km"] == round(expected_km, 1)
    assert 0 <= first["score"] <= 100
    anxiety = Concern.objects.get(slug="anxiety").name
    assert anxiety in " ".join(first["reasons"])
    assert any("CA$120" in reason for reason in first["reasons"])
    last = body["results"][2]
    assert any(anxiety.lower() in text.lower() for text in last["unmet"])
    assert "no-store" in response["Cache-Control"]


def test_nothing_within_reach_says_what_to_relax(toronto) -> None:
    response = _send(Client(), "post", MATCH, {**MINIMAL, "budget_per_session": 50})

    assert response.status_code == 200, response.content[:500]
    body = response.json()
    MatchListOut.model_validate(body)
    assert (body["total"], body["results"]) == (0, [])
    assert body["relax"], body
    budget = [relax for relax in body["relax"] if relax["constraint"] == "budget"]
    assert budget, body["relax"]
    assert budget[0]["adds"] >= 1
    assert budget[0]["advice"]


def test_an_unknown_place_is_a_400_on_place(toronto) -> None:
    response = _send(Client(), "post", MATCH, {"place": "Atlantis Under The Sea"})
    assert _field(response) == "place"
    assert Exposure.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": "2"}, "page"),
        ({"page": True}, "page"),
        ({"page_size": 51}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page": 2}, "page"),  # past the last page
        ({"fit_profile_id": str(uuid.uuid4()), "concerns": ["anxiety"]}, "fit_profile_id"),
        ({"fit_profile_id": 5}, "fit_profile_id"),
        ({"fit_profile_id": str(uuid.uuid4()), "colour": "blue"}, "colour"),
        ({"colour": "blue"}, "colour"),
        ({"concerns": ["not-a-concern"]}, "concerns"),
        ({"preferences": {"faith": {"weight": 7, "values": ["buddhist"]}}},
         "preferences.faith.weight"),
        ([], ""),
        ("{oops", ""),
        (b"[" * 50_000, ""),
    ],
)  # fmt: skip
def test_bad_match_requests_are_400s_naming_the_field_and_count_nothing(
    toronto, body: Any, field: str
) -> None:
    assert _field(_send(Client(), "post", MATCH, body)) == field
    assert Exposure.objects.count() == 0


def test_a_saved_profile_by_id_ranks_like_the_same_answers_inline(toronto) -> None:
    user = make_user(role="client")
    client = _as(user)
    profile_id = _send(client, "post", PROFILES, MINIMAL).json()["id"]

    by_id = _send(client, "post", MATCH, {"fit_profile_id": profile_id})

    assert by_id.status_code == 200, by_id.content[:500]
    names = [result["therapist"]["name"] for result in by_id.json()["results"]]
    assert sorted(names) == ["Amara Fits", "Bo Nearby", "Cy Sliding"]
    # Someone else's id, or no sign-in, is as unknown as an id that never existed.
    for other in (_as(make_user(role="client")), Client()):
        _problem(_send(other, "post", MATCH, {"fit_profile_id": profile_id}), 404)
    _problem(_send(client, "post", MATCH, {"fit_profile_id": "nope"}), 404)


def test_the_daily_seed_is_keyed_by_the_profile_id_or_the_answers_themselves(
    toronto, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    from rapport.matching.answers import FitAnswers

    keys: list[str] = []
    real = ranking.rotating_seed

    def recording(*, day: Any, key: str) -> int:
        keys.append(key)
        return real(day=day, key=key)

    monkeypatch.setattr(ranking, "rotating_seed", recording)
    user = make_user(role="client")
    client = _as(user)
    profile_id = _send(client, "post", PROFILES, MINIMAL).json()["id"]

    _send(client, "post", MATCH, {"fit_profile_id": profile_id})
    _send(Client(), "post", MATCH, MINIMAL)
    # The same answers in another order, with defaults spelled out: the same person's list.
    _send(
        Client(),
        "post",
        MATCH,
        {
            "budget_per_session": 150,
            "concerns": ["anxiety"],
            "place": "Toronto, ON",
            "style_weight": 2,
            "story": "",
        },
    )
    _send(Client(), "post", MATCH, {**MINIMAL, "budget_per_session": 140})

    document = FitAnswers(place="Toronto, ON", concerns=("anxiety",), budget_per_session=150)
    expected = hashlib.sha256(document.to_json().encode()).hexdigest()
    assert keys[0] == profile_id
    assert keys[1] == keys[2] == expected
    assert keys[3] != expected


def test_ranking_a_saved_profile_is_a_recorded_read(toronto) -> None:
    from auditlog.models import LogEntry

    user = make_user(role="client")
    client = _as(user)
    profile_id = _send(client, "post", PROFILES, MINIMAL).json()["id"]
    before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=user).count()

    _send(client, "post", MATCH, {"fit_profile_id": profile_id})
    _send(client, "post", MATCH, MINIMAL)  # inline: nothing stored was read

    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=user).count() == before + 1


def test_signed_in_past_therapists_are_left_out(toronto) -> None:
    user = make_user(role="client")
    make_engagement(
        client=user,
        therapist=toronto["fits"],
        status=EngagementStatus.ENDED,
        ended_for=EndedFor.NOT_THE_RIGHT_FIT,
    )

    signed_in = _send(_as(user), "post", MATCH, MINIMAL).json()
    anonymous = _send(Client(), "post", MATCH, MINIMAL).json()

    assert "Amara Fits" not in [r["therapist"]["name"] for r in signed_in["results"]]
    assert signed_in["total"] == 2
    assert "Amara Fits" in [r["therapist"]["name"] for r in anonymous["results"]]


def test_match_is_open_without_a_csrf_token_signed_in_or_not(toronto) -> None:
    anonymous = Client(enforce_csrf_checks=True)
    assert _send(anonymous, "post", MATCH, MINIMAL).status_code == 200

    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(make_user(role="client"))
    assert _send(signed_in, "post", MATCH, MINIMAL).status_code == 200
    # The same client is refused where something of theirs would be stored.
    _problem(_send(signed_in, "post", PROFILES, MINIMAL), 403)


def test_exposure_is_counted_once_per_first_page(toronto) -> None:
    today = timezone.localdate()
    shown = {toronto["fits"].pk, toronto["sliding"].pk}

    first = _send(Client(), "post", MATCH, {**MINIMAL, "page_size": 2})
    assert first.status_code == 200
    on_first = {
        therapist.pk
        for therapist in toronto.values()
        if str(therapist.public_id) in {r["therapist"]["id"] for r in first.json()["results"]}
    }
    assert on_first == shown  # the two who list anxiety
    second = _send(Client(), "post", MATCH, {**MINIMAL, "page_size": 2, "page": 2})
    assert second.status_code == 200
    assert [r["therapist"]["name"] for r in second.json()["results"]] == ["Bo Nearby"]
    # The same answers sent again without a session are the same anonymous person: not
    # counted again the same day.
    _send(Client(), "post", MATCH, {**MINIMAL, "page_size": 2})
    # A first page with nobody on it shows nobody: not counted.
    _send(Client(), "post", MATCH, {**MINIMAL, "budget_per_session": 10})

    counts = {row.therapist_id: row.first_page_count for row in Exposure.objects.filter(day=today)}
    assert counts == {None: 1, **dict.fromkeys(shown, 1)}


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False),
    st.sampled_from(["anxiety", "grief", "fr", "woman", "video", "weekend", "felt_judged",
                     "Toronto, ON", "Vancouver", "", "\x00", "🙂", "style_humour", "undisclosed"]),
    st.text(max_size=12),
)  # fmt: skip
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(["weight", "values", *PreferenceKey, "style_structure"]),
                      st.text(max_size=6)),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=10,
)  # fmt: skip
_BODIES = st.dictionaries(
    st.one_of(st.sampled_from(sorted(MatchIn.model_fields)), st.text(max_size=8)),
    _VALUES,
    max_size=6,
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=_BODIES)
def test_any_match_body_gets_a_list_or_a_problem_naming_a_field(toronto, body) -> None:
    try:
        data = json.dumps(body, allow_nan=False)
    except ValueError:
        return
    response = _send(Client(), "post", MATCH, data)

    assert response.status_code in (200, 400, 404), (body, response.content[:300])
    if response.status_code == 200:
        MatchListOut.model_validate(response.json())
    elif response.status_code == 400:
        # A documented field (maybe dotted within it), or an unknown key as sent (cut short).
        field = _field(response)
        assert (
            field in ("", *MatchIn.model_fields)
            or field.split(".")[0] in MatchIn.model_fields
            or any(key.startswith(field) for key in body)
        ), field


# --- what did not fit ------------------------------------------------------------------------


def _misfit(client_user: Any, **fields: Any) -> Any:
    fields.setdefault("status", EngagementStatus.ENDED)
    fields.setdefault("ended_for", EndedFor.NOT_THE_RIGHT_FIT)
    return make_engagement(client=client_user, **fields)


def test_feedback_joins_the_fit_profile() -> None:
    user = make_user(role="client")
    client = _as(user)
    _send(client, "post", PROFILES, FULL)
    engagement = _misfit(user)

    response = _send(
        client,
        "post",
        FEEDBACK,
        {"engagement_id": str(engagement.public_id), "reasons": ["felt_judged", "too_directive"]},
    )

    assert response.status_code == 200, response.content[:500]
    body = response.json()
    FitProfileOut.model_validate(body)
    assert body["answers"]["did_not_fit"] == ["felt_judged", "too_directive"]
    assert body["answers"]["story"] == FULL["story"]  # the rest is kept
    assert _stored(FitProfile.objects.get(owner=user))["did_not_fit"] == [
        "felt_judged",
        "too_directive",
    ]
    # A second engagement's reasons join the first's, each once.
    again = _send(
        client,
        "post",
        FEEDBACK,
        {
            "engagement_id": str(_misfit(user).public_id),
            "reasons": ["too_expensive", "felt_judged"],
        },
    )
    assert again.json()["answers"]["did_not_fit"] == [
        "felt_judged",
        "too_directive",
        "too_expensive",
    ]


def test_feedback_without_a_profile_creates_one() -> None:
    user = make_user(role="client")
    engagement = _misfit(user)

    response = _send(
        _as(user), "post", FEEDBACK, {"engagement_id": str(engagement.public_id), "reasons": []}
    )

    assert response.status_code == 200, response.content[:500]
    assert FitProfile.objects.filter(owner=user).count() == 1


def test_feedback_refusals_store_nothing() -> None:
    user = make_user(role="client")
    client = _as(user)
    mine = _misfit(user)
    someone_elses = _misfit(make_user(role="client"))
    ended_otherwise = _misfit(user, ended_for=EndedFor.OTHER)

    unknown = _send(
        client, "post", FEEDBACK, {"engagement_id": str(mine.public_id), "reasons": ["too_tall"]}
    )
    assert _field(unknown) == "reasons"
    not_mine = _send(
        client,
        "post",
        FEEDBACK,
        {"engagement_id": str(someone_elses.public_id), "reasons": ["felt_judged"]},
    )
    _problem(not_mine, 404)
    not_a_misfit = _send(
        client,
        "post",
        FEEDBACK,
        {"engagement_id": str(ended_otherwise.public_id), "reasons": ["felt_judged"]},
    )
    assert "not the right fit" in _problem(not_a_misfit, 409)["detail"]
    extra = _send(
        client,
        "post",
        FEEDBACK,
        {"engagement_id": str(mine.public_id), "reasons": [], "note": "x"},
    )
    assert _field(extra) == "note"
    malformed = _send(client, "post", FEEDBACK, {"engagement_id": "nope", "reasons": []})
    assert _field(malformed) == "engagement_id"

    assert FitProfile.objects.count() == 0
    # Not recorded for the learned model either.
    assert not type(mine).objects.filter(misfit_outcome__isnull=False).exists()


# --- the OpenAPI document --------------------------------------------------------------------


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = {**document["components"]["schemas"][name], **{
            key: value for key, value in node.items() if key != "$ref"
        }}  # fmt: skip
    for key in ("anyOf", "allOf", "oneOf"):
        if key in node:
            parts = [_resolve(document, part) for part in node[key]]
            merged: dict[str, Any] = {}
            for part in parts:
                if part.get("type") != "null":
                    merged.update(part)
            node = {**merged, **{k: v for k, v in node.items() if k != key}}
    return node


def _undescribed(document: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    """Every property (at any depth) without a description, by dotted path."""
    schema = _resolve(document, schema)
    missing = []
    for name, child in schema.get("properties", {}).items():
        resolved = _resolve(document, child)
        if not (child.get("description") or resolved.get("description")):
            missing.append(f"{path}{name}")
        missing += _undescribed(document, resolved, f"{path}{name}.")
    if "items" in schema:
        missing += _undescribed(document, schema["items"], f"{path}[].")
    return missing


@pytest.fixture
def openapi() -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_the_openapi_document_lists_the_paths(openapi: dict[str, Any]) -> None:
    paths = openapi["paths"]
    assert set(paths["/api/v1/fit-profiles"]) == {"post"}
    assert set(paths["/api/v1/fit-profiles/{id}"]) == {"get", "put", "delete"}
    assert set(paths["/api/v1/match"]) == {"post"}
    assert set(paths["/api/v1/match/feedback"]) == {"post"}
    # Only /match is open: it declares no security, the others the session.
    assert "security" not in paths["/api/v1/match"]["post"]
    assert paths["/api/v1/match/feedback"]["post"]["security"]
    assert "409" in paths["/api/v1/fit-profiles"]["post"]["responses"]


def _body_schema(openapi: dict[str, Any], path: str, method: str = "post") -> dict[str, Any]:
    body = openapi["paths"][path][method]["requestBody"]["content"]["application/json"]
    return _resolve(openapi, body["schema"])


def test_every_property_of_every_body_and_answer_is_described(openapi: dict[str, Any]) -> None:
    walked = []
    for path, operations in openapi["paths"].items():
        if not path.startswith((PROFILES, MATCH)):
            continue
        for method, operation in operations.items():
            schemas = {"body": operation.get("requestBody", {}).get("content", {})}
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    schemas[status] = response.get("content", {})
            for part, content in schemas.items():
                for media in content.values():
                    walked.append(f"{method} {path} {part}")
                    assert _undescribed(openapi, media["schema"], "") == [], walked[-1]
    # Four bodies, five answers with content (DELETE answers 204 without one).
    assert len(walked) == 9, walked


def test_the_fit_profile_body_lists_every_field_and_its_choices(openapi: dict[str, Any]) -> None:
    schema = _body_schema(openapi, PROFILES)
    properties = schema["properties"]
    assert set(properties) == ANSWER_KEYS
    assert schema["additionalProperties"] is False
    preferences = _resolve(openapi, properties["preferences"])["properties"]
    assert set(preferences) == {key.value for key in PreferenceKey}
    language = _resolve(openapi, preferences["language"])["properties"]
    assert _resolve(openapi, language["weight"])["enum"] == [0, 1, 2, 3]
    gender_values = _resolve(openapi, preferences["gender"])["properties"]["values"]
    assert "undisclosed" not in gender_values["items"]["enum"]
    style = _resolve(openapi, properties["style"])["properties"]
    assert set(style) == {name for name, _, _ in STYLE_DIMENSIONS}
    assert (style["style_humour"]["minimum"], style["style_humour"]["maximum"]) == (1, 5)
    budget = _resolve(openapi, properties["budget_per_session"])
    assert (budget["minimum"], budget["maximum"]) == (0, 10_000)
    assert _resolve(openapi, properties["delivery"]["items"])["enum"] == [
        "in_person",
        "video",
        "phone",
    ]
    assert set(_resolve(openapi, properties["availability"]["items"])["enum"]) == {
        "weekday_morning",
        "weekday_afternoon",
        "weekday_evening",
        "weekend",
    }
    reasons = {reason.value for reason in MisfitReason}
    assert set(_resolve(openapi, properties["did_not_fit"]["items"])["enum"]) == reasons
    feedback = _body_schema(openapi, FEEDBACK)["properties"]["reasons"]["items"]
    assert set(feedback["enum"]) == reasons
    match = _body_schema(openapi, MATCH)["properties"]
    assert set(match) == ANSWER_KEYS | {"fit_profile_id", "page", "page_size"}
    assert (match["page_size"]["minimum"], match["page_size"]["maximum"]) == (1, 50)


def test_the_documenting_schemas_follow_the_vocabulary() -> None:
    """The schemas are written out for readers; these hold them to answers.py."""
    assert set(FitProfileIn.model_fields) == ANSWER_KEYS
    assert set(PreferencesIn.model_fields) == {key.value for key in PreferenceKey}
    assert list(StyleIn.model_fields) == [name for name, _, _ in STYLE_DIMENSIONS]
