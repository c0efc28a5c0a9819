"""What the client reads after a low check-in: words to bring to the next session, and a way out.

Clients often keep to themselves that therapy is not working, and a rupture that is named can
usually be worked through. So when a check-in the client just answered shows the alliance low
(in the clinical range of its definition's norms) or reliably dropping, their done page says that
this is common and worth saying, offers a few conversation starters for the next session, links
the guide on giving feedback, and (signed in) offers "this isn't the right fit".

"Low" is decided by the same rules that alert the therapist (``alert_rules.findings_after``),
over the client's own records: whatever the client shares, it is their own view of their own
answers. Nothing here is sent to the therapist. All wording is written for Rapport.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapport.care import alert_rules
from rapport.care.history import CheckInRecord
from rapport.care.models import AlertKind
from rapport.core import guides

LOW_KINDS = frozenset({AlertKind.LOW_ALLIANCE, AlertKind.ALLIANCE_DROP})

HEADING = "It sounds like the sessions are not quite working right now"

COMMON = (
    "That is more common than you might think, and it is worth saying out loud. Therapists "
    "want to know: how you feel about the sessions is part of the work, not a complaint about "
    "it, and talking it through often makes the sessions more useful."
)

# Written to be read aloud or adapted; none needs an explanation or an apology around it.
CONVERSATION_STARTERS = (
    "“Something about our sessions hasn't felt right lately, and I'd like to talk about it.”",
    "“I'm not sure we're working on what matters most to me. Can we look at my goals again?”",
    "“I've been having strong feelings about you and about coming here. I've read that "
    "this is normal and worth talking about, so I'm trying.”",
    "“Can we try a different way of using our time together? This way isn't helping me much.”",
)

FEELINGS_NOTE = (
    "Strong feelings toward a therapist — irritation, disappointment, feeling judged, or "
    "feeling very attached — are normal. Saying them is one of the most useful things you can "
    "bring to a session."
)

FIT_NOTE = (
    "If you have tried, or you do not want to, that is all right too: not every therapist is "
    "the right fit for every person, and looking for someone else is not a failure."
)


@dataclass(frozen=True)
class Guidance:
    heading: str
    common: str
    starters: tuple[str, ...]
    feelings: str
    fit: str
    guide_slug: str
    guide_title: str


def _guidance() -> Guidance:
    guide = guides.guide_for(guides.GIVING_FEEDBACK)
    return Guidance(
        heading=HEADING,
        common=COMMON,
        starters=CONVERSATION_STARTERS,
        feelings=FEELINGS_NOTE,
        fit=FIT_NOTE,
        guide_slug=guides.GIVING_FEEDBACK,
        guide_title=guide.title if guide is not None else "Telling your therapist how it is going",
    )


def is_low(records: Sequence[CheckInRecord]) -> bool:
    """Whether the last of ``records`` (the client's own, oldest first) shows the alliance low
    or reliably dropping."""
    return any(finding.kind in LOW_KINDS for finding in alert_rules.findings_after(records))


def low_check_in_guidance(records: Sequence[CheckInRecord]) -> Guidance | None:
    """The guidance for the last of ``records`` (``history.for_client``, oldest first, ending
    with the check-in shown), or None when it is not a low check-in."""
    return _guidance() if is_low(records) else None


def records_until(records: Sequence[CheckInRecord], check_in_id: int) -> Sequence[CheckInRecord]:
    """``records`` up to and including the check-in with primary key ``check_in_id`` (an older
    check-in's page is judged against what came before it, not after); empty when absent."""
    for index, record in enumerate(records):
        if record.check_in.pk == check_in_id:
            return records[: index + 1]
    return ()
