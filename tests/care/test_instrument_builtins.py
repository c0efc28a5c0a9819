"""The instruments written for Rapport: each loads, each critical item is flagged at its
threshold and not below, and none changes without a new version."""

from __future__ import annotations

import pytest

from rapport.care.instruments import (
    CriticalStatus,
    builtin_instruments,
    builtin_slugs,
    clinical_cutoff,
    load_builtin,
    score,
)

# A built-in's content is pinned to its version: changing a file without a new version label
# fails here (so does a change to the canonical form, which would orphan stored answers). When
# you change one on purpose, raise its "version" and record the new pair.
PINNED = {
    "alliance-check-in": (
        "2",
        "sha256:1e4b99a76d39ac067026a39006fb063a649ef497d8397eca428df0bf8bd0dc1f",
    ),
    "fit-check": ("1", "sha256:5c31490d5f685681950fab96d8629dc5400b6b1176f11336276df1ebd2abdf3c"),
    "progress-check": (
        "1",
        "sha256:9cd8dcf60c3cf87a9d91ebb59bba735abd448f39630db3853f686428f0a86b9b",
    ),
}


def test_the_three_builtins_are_there_and_load():
    assert builtin_slugs() == ("alliance-check-in", "fit-check", "progress-check")
    assert [instrument.slug for instrument in builtin_instruments()] == list(builtin_slugs())


@pytest.mark.parametrize("slug", sorted(PINNED))
def test_a_builtin_changes_only_with_a_new_version(slug):
    instrument = load_builtin(slug)
    assert (instrument.version, instrument.content_hash) == PINNED[slug]


def test_an_unknown_builtin_is_a_key_error():
    with pytest.raises(KeyError):
        load_builtin("no-such-instrument")


def _all_critical_cases():
    for instrument in builtin_instruments():
        for rule in instrument.critical_items:
            for option in instrument.items_by_id[rule.item_id].options:
                yield pytest.param(
                    instrument.slug,
                    rule.item_id,
                    option.value,
                    id=f"{instrument.slug}-{rule.item_id}-{option.value}",
                )


def test_every_builtin_critical_item_is_tested():
    assert {(slug, item) for slug, item, _ in (p.values for p in _all_critical_cases())} == {
        ("progress-check", "safety")
    }


@pytest.mark.parametrize(("slug", "item_id", "answer"), list(_all_critical_cases()))
def test_every_critical_item_is_flagged_at_its_threshold_and_not_below(slug, item_id, answer):
    instrument = load_builtin(slug)
    (rule,) = [rule for rule in instrument.critical_items if rule.item_id == item_id]
    result = score(instrument, {item_id: answer})
    (flag,) = [flag for flag in result.critical if flag.item_id == item_id]
    expected = CriticalStatus.FLAGGED if answer >= rule.threshold else CriticalStatus.NOT_FLAGGED
    assert flag.status is expected
    assert result.any_critical is (answer >= rule.threshold)


def test_the_progress_check_safety_item_is_critical_from_its_first_step_up():
    # "Not at all" is not flagged; "Once or twice" and above are.
    instrument = load_builtin("progress-check")
    statuses = [score(instrument, {"safety": value}).critical[0].status for value in range(0, 5)]
    assert statuses == [CriticalStatus.NOT_FLAGGED] + [CriticalStatus.FLAGGED] * 4
    assert score(instrument, {}).critical[0].status is CriticalStatus.NOT_ANSWERED


def test_the_safety_item_counts_in_no_score():
    instrument = load_builtin("progress-check")
    answers = {"energy": 2, "getting-things-done": 2, "enjoyment": 2, "connection": 2}
    answers["looking-after-myself"] = 2
    assert score(instrument, answers).total.value == 10
    assert score(instrument, {**answers, "safety": 4}).total.value == 10


def test_fit_check_scores_a_hand_worked_example():
    # 5 + 4 + 3 + 4 = 16: "A good start" starts at 16.
    instrument = load_builtin("fit-check")
    result = score(instrument, {"understood": 5, "open": 4, "focus": 3, "continue": 4})
    assert (result.total.value, result.total.band) == (16, "A good start")
    assert len(instrument.items) == 4


def test_alliance_check_in_subscales_and_reverse_item():
    # bond: 4 and 6 − 2 = 4 → 4.0; goals: (3 + 5) / 2 = 4.0; tasks: (2 + 3) / 2 = 2.5;
    # total (4 + 4 + 3 + 5 + 2 + 3) / 6 = 21 / 6 = 3.5 → "Working well" (from 3.5).
    instrument = load_builtin("alliance-check-in")
    result = score(
        instrument,
        {
            "bond-at-ease": 4,
            "bond-holding-back": 2,
            "goals-what-matters": 3,
            "goals-direction": 5,
            "tasks-makes-sense": 2,
            "tasks-take-away": 3,
        },
    )
    assert {s.id: s.value for s in result.subscales} == {"bond": 4.0, "goals": 4.0, "tasks": 2.5}
    assert (result.total.value, result.total.band) == (3.5, "Working well")
    assert len(instrument.items) == 6


def test_progress_check_norms_are_marked_synthetic():
    instrument = load_builtin("progress-check")
    assert instrument.norms is not None
    assert "SYNTHETIC" in instrument.norms.source
    # c = (4 × 15 + 3 × 9) / (4 + 3) = 87 / 7 = 12.428…
    assert clinical_cutoff(instrument) == pytest.approx(87 / 7)


def test_builtins_say_they_are_not_validated():
    for instrument in builtin_instruments():
        assert "Not a validated instrument" in instrument.licence
