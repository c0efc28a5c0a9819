"""The rule for "what did not fit" answers that contradict each other.

Three pairs of answers say opposite things about one dimension of style ("too directive" and
"not directive enough"). A profile holds at most one of each pair: the newer replaces the older
(``misfit_merged``), so a list never leans both ways at once and the lean never depends on the
order the answers were given in. One submission naming both is refused
(``misfit_contradiction``).
"""

from __future__ import annotations

from collections.abc import Iterable

from rapport.matching.answers import MISFIT_LABELS, MisfitReason

_OPPOSITE_PAIRS = (
    (MisfitReason.TOO_DIRECTIVE, MisfitReason.NOT_DIRECTIVE_ENOUGH),
    (MisfitReason.TOO_STRUCTURED, MisfitReason.NOT_STRUCTURED_ENOUGH),
    (MisfitReason.TOO_CHALLENGING, MisfitReason.NOT_CHALLENGING_ENOUGH),
)
MISFIT_OPPOSITES: dict[str, str] = {
    **{str(first): str(second) for first, second in _OPPOSITE_PAIRS},
    **{str(second): str(first) for first, second in _OPPOSITE_PAIRS},
}


def misfit_merged(earlier: Iterable[str], newer: Iterable[str]) -> tuple[str, ...]:
    """``earlier`` reasons joined by ``newer`` ones, each once, in the order first given; a
    newer reason removes its opposite from the earlier ones."""
    added = tuple(dict.fromkeys(newer))
    replaced = {MISFIT_OPPOSITES.get(reason) for reason in added}
    kept = [reason for reason in earlier if reason not in replaced]
    return tuple(dict.fromkeys((*kept, *added)))


def misfit_settled(reasons: Iterable[str]) -> tuple[str, ...]:
    """The reasons read from oldest to newest, each later one replacing an earlier opposite
    (how a profile stored before the rule held is read)."""
    settled: tuple[str, ...] = ()
    for reason in reasons:
        settled = misfit_merged(settled, (reason,))
    return settled


def misfit_contradiction(reasons: Iterable[str]) -> str | None:
    """A sentence naming the first pair of opposites among ``reasons``, or None."""
    given = set(reasons)
    for first, second in _OPPOSITE_PAIRS:
        if first in given and second in given:
            return (
                f"Choose “{MISFIT_LABELS[first]}” or “{MISFIT_LABELS[second]}”, not both: "
                "they say opposite things."
            )
    return None
