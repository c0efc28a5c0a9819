"""docs/instruments.md: its complete example definition loads and scores as the page says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rapport.care.instruments import (
    CriticalStatus,
    clinical_cutoff,
    definition_schema,
    parse_definition,
    score,
)

PAGE = Path(__file__).resolve().parents[2] / "docs" / "instruments.md"


def _example():
    blocks = re.findall(r"```json\n(.*?)```", PAGE.read_text(), re.DOTALL)
    assert len(blocks) == 1
    return parse_definition(blocks[0])


ANSWERS = {"slept": 3, "calm": 2, "put-off": 1, "friends": 4, "outlook": 2, "unsafe": 2}


def test_the_example_scores_as_the_page_says():
    instrument = _example()
    result = score(instrument, ANSWERS)
    assert (result.total.value, result.total.band) == (14, "high")
    assert {s.id: (s.value, s.band) for s in result.subscales} == {
        "rest": (5, None),
        "doing": (7, "some"),
    }
    assert result.critical[0].status is CriticalStatus.FLAGGED
    assert clinical_cutoff(instrument) == pytest.approx(80 / 7)


def test_the_example_prorates_as_the_page_says():
    instrument = _example()
    one_blank = score(instrument, {**ANSWERS, "outlook": None})
    assert (one_blank.total.value, one_blank.total.prorated) == (15, True)
    two_blank = score(instrument, {**ANSWERS, "outlook": None, "friends": None})
    assert two_blank.total.value is None
    assert two_blank.subscale("doing").value is None


def test_the_page_links_the_published_schema():
    assert "rapport/care/instruments/instrument.schema.json" in PAGE.read_text()
    assert definition_schema()["title"] == "Rapport instrument definition"
