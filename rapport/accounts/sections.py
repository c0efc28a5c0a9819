"""What the apps above accounts add to a person's account page (``/account/``).

The account page belongs to accounts, which may not import the apps built on it (booking keeps
the person's consultations). So each of those apps registers an *account section* in
``AppConfig.ready()``: a function of the request and the signed-in person that returns the
section's HTML, already rendered from the app's own template, or an empty string when it has
nothing to show. The page shows the sections in ``order``, then its own details and privacy
panels.

A section that shows health data (a consultation is one) says so with ``health_data=True``:
the page is then never kept by any cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from rapport.accounts.models import User

AccountSectionRenderer = Callable[[HttpRequest, User], str]


@dataclass(frozen=True)
class AccountSection:
    name: str
    render: AccountSectionRenderer
    order: int
    health_data: bool


_sections: dict[str, AccountSection] = {}


def register_account_section(
    name: str, render: AccountSectionRenderer, *, order: int = 100, health_data: bool = False
) -> None:
    """Registering a name again replaces its section."""
    _sections[name] = AccountSection(name=name, render=render, order=order, health_data=health_data)


def registered_account_sections() -> list[AccountSection]:
    return sorted(_sections.values(), key=lambda section: (section.order, section.name))


def account_sections_render(*, request: HttpRequest, user: User) -> list[SafeString]:
    """Each section's HTML for ``user``, in order, leaving out the empty ones. The HTML comes
    from the registering app's templates, which escape what they show."""
    rendered = []
    for section in registered_account_sections():
        html = section.render(request, user)
        if html:
            rendered.append(mark_safe(html))  # noqa: S308 - rendered by a template, escaped there
    return rendered


def account_page_shows_health_data() -> bool:
    return any(section.health_data for section in _sections.values())
