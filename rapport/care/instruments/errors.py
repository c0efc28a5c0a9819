"""The two ways input is refused: a bad definition, or bad answers. Both list every problem
found, each tied to where it is, so a person can fix them all in one go."""

from __future__ import annotations

from collections.abc import Iterable


class _ProblemList(ValueError):
    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        super().__init__(self._summary())

    def _summary(self) -> str:
        lines = [f"{where}: {message}" if where else message for where, message in self.problems]
        return "\n".join(lines)

    def messages(self) -> list[str]:
        return str(self).splitlines()


class DefinitionError(_ProblemList):
    """A definition that cannot be loaded. `problems` holds (path, message) pairs; a path reads
    like `items[3].options[1].value` (empty for the definition as a whole). Nothing of a refused
    definition is kept."""


class AnswerError(_ProblemList):
    """Answers that cannot be scored. `problems` holds (item id, message) pairs, one per item
    (an unknown id is named as given)."""


class ChangeUnavailable(ValueError):
    """Change statistics were asked of an instrument whose definition gives no norms."""
