"""Placeholder until this part lands."""


def register() -> None:
    """Hooks, export sections and erasure steps this part adds."""


def misfit_record(*, engagement: object, now: object) -> None:
    """Placeholder: records an engagement ended as not the right fit (the learning helper)."""
