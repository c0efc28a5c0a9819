"""Placeholder until this part lands."""


def register() -> None:
    """Hooks, export sections and erasure steps this part adds."""
