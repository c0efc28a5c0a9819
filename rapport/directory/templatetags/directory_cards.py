"""``{% card_static therapist distance %}``: the reader-independent part of a result card,
rendered once per card object.

A results page is mostly its twenty cards, and Django renders each one tag by tag, about half a
millisecond apiece. What a card shows depends only on the card (a ``ResultCard``, which the
search keeps for at most a minute per index snapshot: ``engine.cache.RecentRows``) and the
distance from the searched place; only the Save form depends on who reads it, and it is
rendered each time (``_therapist_card.html``). So the rest is rendered once and kept on the
card object itself, and goes when the card does. The distance differs from one search to the
next, so the kept text holds a marker where it goes: one kept text per card, whatever the
number of places it is seen from.
"""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from rapport.directory.cards import ResultCard

register = template.Library()

_RENDERED = "_rendered_static"  # the card object's attribute holding its kept text
DISTANCE_MARKER = "<!--distance-->"  # in _therapist_card_static.html


@register.simple_tag
def card_static(therapist: ResultCard, distance: str = "") -> SafeString:
    html: str | None = therapist.__dict__.get(_RENDERED)
    if html is None:
        html = render_to_string("directory/_therapist_card_static.html", {"therapist": therapist})
        # A frozen dataclass refuses attributes; this one is a cache, not part of its value.
        # Two threads filling it at once render the same text.
        object.__setattr__(therapist, _RENDERED, html)
    row = format_html("<div><dt>Distance</dt><dd>{}</dd></div>", distance) if distance else ""
    # The template's own output (escaped as it rendered) with an escaped row put in.
    return mark_safe(html.replace(DISTANCE_MARKER, row, 1))  # noqa: S308
