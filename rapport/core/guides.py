"""Short guidance pages, written for Rapport, that other apps link at the moment they help.

The pages live in core (the bottom layer) because apps on every layer link them: the
directory's home, search and profile pages, booking's confirmation page and e-mails, and
care's check-in and graduation pages. An app may only link apps below it, and core is below
all of them.

This module is data only: each guide's slug, title, one-line summary and related guides. The
words of each page are in ``core/templates/core/guides/<slug>.html``. Link a guide with
``{% url 'guide' slug %}`` using one of the slug constants below, so a renamed page fails a
test rather than leaving a dead link.
"""

from __future__ import annotations

from dataclasses import dataclass

WHY_FIT_MATTERS = "why-fit-matters"
FREE_CONSULTATION = "free-consultation"
GIVING_FEEDBACK = "giving-feedback"
CONTACT_BETWEEN_SESSIONS = "contact-between-sessions"
GRADUATING = "graduating"


@dataclass(frozen=True)
class Guide:
    slug: str
    title: str
    # One sentence, for the guides index and for links that need a little context.
    summary: str
    # Slugs of the guides a reader of this one is likely to want next, most useful first.
    related: tuple[str, ...]

    @property
    def template_name(self) -> str:
        return f"core/guides/{self.slug}.html"


# In the order the index lists them: the order a client meets them on the way through therapy.
GUIDES: tuple[Guide, ...] = (
    Guide(
        slug=WHY_FIT_MATTERS,
        title="Why fit matters",
        summary="What the working relationship with a therapist is, and why it is worth "
        "choosing with care.",
        related=(FREE_CONSULTATION, GIVING_FEEDBACK),
    ),
    Guide(
        slug=FREE_CONSULTATION,
        title="What to ask in a free consultation",
        summary="Questions that help you tell, in a short call, whether a therapist could be "
        "right for you.",
        related=(WHY_FIT_MATTERS, CONTACT_BETWEEN_SESSIONS),
    ),
    Guide(
        slug=GIVING_FEEDBACK,
        title="Telling your therapist how it is going",
        summary="How to give your therapist feedback, and why feelings about them are worth "
        "talking about.",
        related=(WHY_FIT_MATTERS, GRADUATING),
    ),
    Guide(
        slug=CONTACT_BETWEEN_SESSIONS,
        title="Why contact between sessions is limited",
        summary="What to expect between sessions, why therapists set limits, and what to do "
        "when you need more.",
        related=(FREE_CONSULTATION, GIVING_FEEDBACK),
    ),
    Guide(
        slug=GRADUATING,
        title="What graduating from therapy looks like",
        summary="How therapy can end well: looking back at your goals, a last check, and what "
        "you keep.",
        related=(GIVING_FEEDBACK, WHY_FIT_MATTERS),
    ),
)

_BY_SLUG = {guide.slug: guide for guide in GUIDES}


def guide_for(slug: str) -> Guide | None:
    """The guide with this slug, or None when there is none."""
    return _BY_SLUG.get(slug)


def related_guides(guide: Guide) -> list[Guide]:
    return [_BY_SLUG[slug] for slug in guide.related]
