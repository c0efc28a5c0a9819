"""Scoring against tables worked out by hand: sums and bands at every edge, reverse items,
subscale means, prorating, critical items."""

from __future__ import annotations

import pytest

from rapport.care.instruments import CriticalStatus, DefinitionError, load_definition, score
from tests.care.instrument_definitions import nine_item, twelve_item

NINE = load_definition(nine_item())
TWELVE = load_definition(twelve_item())


def nine_answers(values: list[int | None]) -> dict[str, int | None]:
    return {f"q{number}": value for number, value in enumerate(values, start=1)}


# Each row: the nine answers, their sum worked out by hand, the band that sum falls in.
NINE_ITEM_TABLE = [
    ([0, 0, 0, 0, 0, 0, 0, 0, 0], 0, "band A"),
    ([1, 1, 1, 1, 0, 0, 0, 0, 0], 4, "band A"),
    ([1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "band B"),
    ([3, 3, 3, 0, 0, 0, 0, 0, 0], 9, "band B"),
    ([3, 3, 3, 1, 0, 0, 0, 0, 0], 10, "band C"),
    ([2, 2, 2, 2, 2, 2, 2, 0, 0], 14, "band C"),
    ([3, 3, 3, 3, 3, 0, 0, 0, 0], 15, "band D"),
    ([3, 3, 3, 3, 3, 2, 1, 1, 0], 19, "band D"),
    ([3, 3, 3, 3, 3, 3, 2, 0, 0], 20, "band E"),
    ([3, 3, 3, 3, 3, 3, 3, 3, 3], 27, "band E"),
]


@pytest.mark.parametrize(("answers", "total", "band"), NINE_ITEM_TABLE)
def test_nine_item_sum_and_band_at_each_edge(answers, total, band):
    result = score(NINE, nine_answers(answers))
    assert result.total.value == total
    assert result.total.band == band
    assert result.total.prorated is False
    assert result.missing_items == ()


# Threshold, answer to q9, what the result says: below the threshold is only "not flagged".
CRITICAL_TABLE = [
    (1, 0, CriticalStatus.NOT_FLAGGED),
    (1, 1, CriticalStatus.FLAGGED),
    (1, 2, CriticalStatus.FLAGGED),
    (1, 3, CriticalStatus.FLAGGED),
    (2, 0, CriticalStatus.NOT_FLAGGED),
    (2, 1, CriticalStatus.NOT_FLAGGED),
    (2, 2, CriticalStatus.FLAGGED),
    (2, 3, CriticalStatus.FLAGGED),
    (3, 0, CriticalStatus.NOT_FLAGGED),
    (3, 1, CriticalStatus.NOT_FLAGGED),
    (3, 2, CriticalStatus.NOT_FLAGGED),
    (3, 3, CriticalStatus.FLAGGED),
    (2, None, CriticalStatus.NOT_ANSWERED),
]


@pytest.mark.parametrize(("threshold", "answer", "status"), CRITICAL_TABLE)
def test_critical_item_just_below_at_and_above_its_threshold(threshold, answer, status):
    instrument = load_definition(nine_item(threshold=threshold))
    result = score(instrument, nine_answers([0, 0, 0, 0, 0, 0, 0, 0, answer]))
    (flag,) = result.critical
    assert (flag.item_id, flag.threshold, flag.answer) == ("q9", threshold, answer)
    assert flag.status is status
    assert result.any_critical is (status is CriticalStatus.FLAGGED)


def test_a_critical_status_never_reads_as_safe():
    assert {status.value for status in CriticalStatus} == {
        "flagged",
        "not flagged",
        "not answered",
    }


def test_critical_answer_counts_in_the_total_when_the_item_is_scored():
    result = score(NINE, nine_answers([0, 0, 0, 0, 0, 0, 0, 0, 3]))
    assert result.total.value == 3
    assert result.critical[0].flagged


# --- prorating --------------------------------------------------------------------------------


def test_one_missing_item_is_prorated_and_halves_round_up():
    # Answered: 3+3+2+2+1+1+0+0 = 12 over 8 items; 12 / 8 × 9 = 13.5, rounded up to 14.
    result = score(NINE, nine_answers([3, 3, 2, 2, 1, 1, 0, 0, None]))
    assert result.total.value == 14
    assert result.total.band == "band C"
    assert result.total.prorated is True
    assert result.total.missing == ("q9",)
    assert result.missing_items == ("q9",)


def test_prorating_a_high_sum():
    # 3×7 + 2 = 23 over 8 answered items; 23 / 8 × 9 = 25.875, rounded to 26.
    result = score(NINE, nine_answers([3, 3, 3, 3, None, 3, 3, 3, 2]))
    assert result.total.value == 26
    assert result.total.band == "band E"


def test_one_missing_item_more_than_the_rule_allows_gives_no_score():
    result = score(NINE, nine_answers([3, 3, 2, 2, 1, 1, 0, None, None]))
    assert result.total.value is None
    assert result.total.band is None
    assert result.total.enough_answers is False
    assert result.total.prorated is False
    assert result.total.missing == ("q8", "q9")


def test_missing_keys_and_none_both_mean_unanswered():
    answers = {f"q{number}": 1 for number in range(1, 9)}
    assert score(NINE, answers).total == score(NINE, {**answers, "q9": None}).total


def test_no_answers_at_all_gives_no_score_and_unanswered_critical_items():
    result = score(NINE, {})
    assert result.total.value is None
    assert result.critical[0].status is CriticalStatus.NOT_ANSWERED


# --- twelve items, three subscales, reverse items, means ---------------------------------------

# a: 5, 4, 4, a4=2 reversed to 4             → 17 / 4 = 4.25 (high)
# b: 3, b2=5 reversed to 1, 2, 4             → 10 / 4 = 2.50 (middle, its lowest edge)
# c: 1, 2, c3=1 reversed to 5, 3             → 11 / 4 = 2.75 (middle)
# total: (17 + 10 + 11) / 12 = 38 / 12 = 3.1666… → 3.17 (upper)
TWELVE_ANSWERS = {
    "a1": 5,
    "a2": 4,
    "a3": 4,
    "a4": 2,
    "b1": 3,
    "b2": 5,
    "b3": 2,
    "b4": 4,
    "c1": 1,
    "c2": 2,
    "c3": 1,
    "c4": 3,
}


def _subscales(result):
    return {
        subscale.id: (subscale.value, subscale.band, subscale.prorated)
        for subscale in result.subscales
    }


def test_twelve_items_subscale_means_with_reverse_items():
    result = score(TWELVE, TWELVE_ANSWERS)
    assert _subscales(result) == {
        "a": (4.25, "high", False),
        "b": (2.5, "middle", False),
        "c": (2.75, "middle", False),
    }
    assert (result.total.value, result.total.band, result.total.prorated) == (3.17, "upper", False)


def test_twelve_items_one_missing_in_a_subscale_is_prorated():
    # a without a2: (5 + 4 + 4) / 3 = 4.333… → 4.33; total (38 − 4) / 11 = 3.0909… → 3.09.
    result = score(TWELVE, {**TWELVE_ANSWERS, "a2": None})
    assert result.subscale("a").value == 4.33
    assert result.subscale("a").prorated is True
    assert result.subscale("b").value == 2.5
    assert (result.total.value, result.total.prorated) == (3.09, True)


def test_twelve_items_two_missing_in_a_subscale_leaves_it_unscored():
    # a without a2 and a3: no score (one allowed); total (38 − 8) / 10 = 3.0, still allowed.
    result = score(TWELVE, {**TWELVE_ANSWERS, "a2": None, "a3": None})
    assert result.subscale("a").value is None
    assert result.subscale("a").missing == ("a2", "a3")
    assert (result.total.value, result.total.band, result.total.prorated) == (3.0, "upper", True)


def test_twelve_items_three_missing_leaves_the_total_unscored():
    # b without b1: (1 + 2 + 4) / 3 = 2.333… → 2.33, low (below 2.5).
    result = score(TWELVE, {**TWELVE_ANSWERS, "a2": None, "a3": None, "b1": None})
    assert result.total.value is None
    assert result.subscale("b").value == 2.33
    assert result.subscale("b").band == "low"
    assert result.missing_items == ("a2", "a3", "b1")


def test_reverse_scoring_turns_each_answer_around_the_scale():
    # Every item answered 1: the three reversed items count as 5.
    # a: (1+1+1+5)/4 = 2.0; b: 2.0; c: 2.0; total 24/12 = 2.0.
    result = score(TWELVE, dict.fromkeys(TWELVE_ANSWERS, 1))
    assert {s.id: s.value for s in result.subscales} == {"a": 2.0, "b": 2.0, "c": 2.0}
    assert result.total.value == 2.0
    assert result.total.band == "lower"


def test_scores_name_the_definition_they_were_scored_with():
    result = score(TWELVE, TWELVE_ANSWERS)
    assert (result.slug, result.version) == ("synthetic-twelve", "1")
    assert result.content_hash == TWELVE.content_hash
    assert result.content_hash.startswith("sha256:")


def _uneven(bands_top: int) -> dict:
    """Two items whose options differ (0–4 and 0–2), summed, one may be blank: A alone at 4
    prorates to 4 × 2 = 8, past the all-answered maximum of 6."""
    return {
        "slug": "uneven",
        "title": "Uneven",
        "version": "1",
        "language": "en",
        "instructions": "Made up.",
        "response_range": {"min": 0, "max": 4},
        "items": [
            {"id": "a", "text": "A.", "options": [{"value": v, "label": str(v)} for v in range(5)]},
            {"id": "b", "text": "B.", "options": [{"value": v, "label": str(v)} for v in range(3)]},
        ],
        "scoring": {
            "method": "sum",
            "prorate": {"max_missing": 1},
            "bands": [
                {"from": 0, "to": 3, "label": "lower"},
                {"from": 4, "to": bands_top, "label": "upper"},
            ],
        },
    }


def test_a_prorated_score_can_pass_the_all_answered_range_and_bands_must_cover_it():
    instrument = load_definition(_uneven(bands_top=8))
    assert (instrument.total.minimum, instrument.total.maximum) == (0, 8)
    result = score(instrument, {"a": 4})
    assert (result.total.value, result.total.band, result.total.prorated) == (8, "upper", True)
    with pytest.raises(DefinitionError) as caught:
        load_definition(_uneven(bands_top=6))
    assert caught.value.problems == (
        ("scoring.bands[1].to", "the highest possible score is 8; the last band must end there"),
    )
