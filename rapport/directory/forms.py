"""What the directory's forms show: the search filters with live counts, and the cost planner.

The search form is not a Django ``Form``: the query string is parsed once, by the search
engine's ``parse_search_query``, for the page and the API alike. Here the raw values are only
echoed back into the controls (so a person's other choices survive a mistake in one of them)
and paired with the option lists and facet counts.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from functools import cached_property

from django.db.models import Model
from django.http import QueryDict
from django.utils.safestring import SafeString, mark_safe

from rapport.core.money import format_money
from rapport.directory.models import (
    STYLE_DIMENSIONS,
    AccessibilityFeature,
    BetweenSessionContact,
    Concern,
    Faith,
    GenderCategory,
    Language,
    LivedExperience,
    Modality,
    Population,
    TherapistProfile,
)
from rapport.directory.search.contract import (
    CONSULTATION_WITHIN_OPTIONS,
    DEFAULT_RADIUS_KM,
    SORT_BEST_FIT,
    SORT_DISTANCE,
    SORT_FEE,
    SORT_NAME,
    SORT_SOONEST,
    STYLE_PARAMS,
    FacetCount,
    SearchParam,
)
from rapport.directory.search.numbers import (
    MAX_NUMBER_LENGTH,
    NotANumber,
    NumberTooLong,
    decimal_number,
)

RADIUS_CHOICES_KM = (5, 10, 25, 50, 100, 250, 500)
DELIVERY_CHOICES = (("in_person", "In person"), ("video", "Video"), ("phone", "Phone"))
SORT_LABELS = {
    SORT_BEST_FIT: "Best fit with my style preferences",
    SORT_DISTANCE: "Nearest first",
    SORT_FEE: "Lowest fee first",
    SORT_SOONEST: "Soonest free consultation",
    SORT_NAME: "Name (A to Z)",
}
# Location errors (a place not found, a bad coordinate) are shown beside the one field a person
# typed into; the coordinates are filled in by the "use my location" button.
ERROR_FIELD_ALIASES: dict[str, str] = {
    SearchParam.LATITUDE: SearchParam.PLACE,
    SearchParam.LONGITUDE: SearchParam.PLACE,
}
TRUE_VALUE = "1"


def error_field(field_name: str) -> str:
    return ERROR_FIELD_ALIASES.get(field_name, field_name)


def escape_text(value: str) -> str:
    """``django.utils.html.escape`` for a plain ``str``: the same characters, the same way."""
    return html.escape(str(value), quote=True)


def format_count(count: int) -> str:
    return f"({count:,})"


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    checked: bool
    count: int | None  # None when there are no live counts (a query that could not run)
    input_id: str

    @property
    def count_label(self) -> str:
        return "" if self.count is None else format_count(self.count)

    @property
    def unavailable(self) -> bool:
        """Ticking it would find nobody with the other choices as they are; one already ticked
        stays usable, so a person can always untick it."""
        return self.count == 0 and not self.checked


@dataclass(frozen=True)
class ChoiceGroup:
    """A fieldset of checkboxes for one query parameter."""

    name: str
    legend: str
    options: list[Option]
    error: str | None = None
    in_details: bool = False  # long lists fold away behind their (still visible) legend
    hint: str = ""
    input_type: str = "checkbox"  # "radio" for a one-of-several choice

    @property
    def fieldset_id(self) -> str:
        return f"group-{self.name}"

    @property
    def checked_count(self) -> int:
        return sum(1 for option in self.options if option.checked)

    def options_html(self) -> SafeString:
        """The group's checkbox rows. Built here rather than in a template loop: the search
        page shows about 150 options, and the template engine's per-variable lookups made
        this list the slowest part of the page. Every value is plain text, escaped once with
        the standard library's ``html.escape`` (what Django's ``escape`` calls, without its
        lazy-string wrapper, which cost more than the escaping)."""
        kind, name = escape_text(self.input_type), escape_text(self.name)
        rows = []
        for option in self.options:
            input_id = escape_text(option.input_id)
            rows.append(
                f'<li><input type="{kind}" id="{input_id}" name="{name}"'
                f' value="{escape_text(option.value)}"{" checked" if option.checked else ""}'
                f"{' disabled' if option.unavailable else ''}> "
                f'<label for="{input_id}">{escape_text(option.label)} <span class="facet-count"'
                f' id="count-{input_id}">{escape_text(option.count_label)}</span></label></li>'
            )
        return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped


@dataclass(frozen=True)
class StyleField:
    name: str
    low: str
    high: str
    value: str
    error: str | None

    @property
    def choices(self) -> list[tuple[str, str]]:
        return [
            ("1", f"1 — {self.low}"),
            ("2", "2"),
            ("3", "3 — in between"),
            ("4", "4"),
            ("5", f"5 — {self.high}"),
        ]


@dataclass
class SearchForm:
    """Everything the filter form shows, built from the raw query string."""

    params: QueryDict
    facets: dict[str, list[FacetCount]] | None
    errors: dict[str, str] = field(default_factory=dict)
    has_location: bool = False
    has_style: bool = False

    # --- raw values ---------------------------------------------------------------------------

    def value(self, name: str) -> str:
        return self.params.get(name, "").strip()

    def values(self, name: str) -> set[str]:
        return {value.strip() for value in self.params.getlist(name)}

    def flag(self, name: str) -> bool:
        return self.value(name) == TRUE_VALUE

    # --- counts -------------------------------------------------------------------------------

    def _count(self, name: str, value: str) -> int | None:
        if self.facets is None:
            return None
        for facet in self.facets.get(name, []):
            if facet.value == value:
                return facet.count
        return 0 if name in self.facets else None

    def flag_count_label(self, name: str) -> str:
        count = self._count(name, TRUE_VALUE)
        return "" if count is None else format_count(count)

    # --- controls -----------------------------------------------------------------------------

    def _group(
        self,
        name: str,
        legend: str,
        choices: list[tuple[str, str]],
        *,
        in_details: bool = False,
        hint: str = "",
        input_type: str = "checkbox",
    ) -> ChoiceGroup:
        # A radio group has one value; its "" option ("any") is checked when none is given.
        chosen = {self.value(name)} if input_type == "radio" else self.values(name)
        options = [
            Option(
                value=value,
                label=label,
                checked=value in chosen,
                count=self._count(name, value) if value else None,
                input_id=f"id_{name}_{index}",
            )
            for index, (value, label) in enumerate(choices)
        ]
        return ChoiceGroup(
            name=name,
            legend=legend,
            options=options,
            error=self.errors.get(name),
            in_details=in_details,
            hint=hint,
            input_type=input_type,
        )

    def _terms(self, name: str, model: type[Model]) -> list[tuple[str, str]]:
        """A taxonomy's options: the engine's own list when it answered (one source for the
        options and their counts, no queries), else the active terms from the database."""
        if self.facets is not None and name in self.facets:
            return [(facet.value, facet.label) for facet in self.facets[name]]
        return list(
            model._default_manager.filter(is_active=True)
            .order_by("sort_order", "name")
            .values_list("slug", "name")
        )

    @cached_property
    def groups(self) -> dict[str, ChoiceGroup]:
        return {
            SearchParam.DELIVERY: self._group(
                SearchParam.DELIVERY,
                "How to meet",
                list(DELIVERY_CHOICES),
                hint="Any of the ones you choose.",
            ),
            SearchParam.CONCERN: self._group(
                SearchParam.CONCERN,
                "What you want help with",
                self._terms(SearchParam.CONCERN, Concern),
                in_details=True,
                hint="Therapists who help with all the ones you choose.",
            ),
            SearchParam.MODALITY: self._group(
                SearchParam.MODALITY,
                "Approaches",
                self._terms(SearchParam.MODALITY, Modality),
                in_details=True,
                hint="Therapists who use all the ones you choose.",
            ),
            SearchParam.POPULATION: self._group(
                SearchParam.POPULATION,
                "Who it is for",
                self._terms(SearchParam.POPULATION, Population),
            ),
            SearchParam.LANGUAGE: self._group(
                SearchParam.LANGUAGE,
                "Languages",
                self._terms(SearchParam.LANGUAGE, Language),
                in_details=True,
                hint="Therapists who speak all the ones you choose.",
            ),
            SearchParam.GENDER: self._group(
                SearchParam.GENDER,
                "Therapist's gender",
                [
                    (value, label)
                    for value, label in GenderCategory.choices
                    if value != GenderCategory.UNDISCLOSED
                ],
                hint="Any of the ones you choose.",
            ),
            SearchParam.LIVED_EXPERIENCE: self._group(
                SearchParam.LIVED_EXPERIENCE,
                "Lived experience",
                self._terms(SearchParam.LIVED_EXPERIENCE, LivedExperience),
            ),
            SearchParam.FAITH: self._group(
                SearchParam.FAITH,
                "Faith or spirituality",
                self._terms(SearchParam.FAITH, Faith),
                in_details=True,
                hint="Any of the ones you choose.",
            ),
            SearchParam.CONSULTATION_WITHIN: self._group(
                SearchParam.CONSULTATION_WITHIN,
                "Free consultation",
                [("", "Any time")]
                + [(str(days), f"Within {days} days") for days in CONSULTATION_WITHIN_OPTIONS],
                hint="How soon you could have a free first conversation.",
                input_type="radio",
            ),
            SearchParam.CONTACT: self._group(
                SearchParam.CONTACT,
                "Contact between sessions",
                list(BetweenSessionContact.choices),
                hint="Any of the ones you choose.",
            ),
            SearchParam.ACCESSIBILITY: self._group(
                SearchParam.ACCESSIBILITY,
                "Office accessibility",
                self._terms(SearchParam.ACCESSIBILITY, AccessibilityFeature),
                in_details=True,
                hint="An office with all the features you choose.",
            ),
        }

    @cached_property
    def style_fields(self) -> list[StyleField]:
        return [
            StyleField(
                name=name, low=low, high=high, value=self.value(name), error=self.errors.get(name)
            )
            for name, low, high in STYLE_DIMENSIONS
        ]

    def radius_choices(self) -> list[tuple[str, str]]:
        return [(str(km), f"Within {km} km") for km in RADIUS_CHOICES_KM]

    @property
    def radius(self) -> str:
        return self.value(SearchParam.RADIUS) or str(int(DEFAULT_RADIUS_KM))

    def sort_choices(self) -> list[tuple[str, str]]:
        """Best fit only makes sense with style preferences, nearest only with a place."""
        sorts = []
        if self.has_style:
            sorts.append(SORT_BEST_FIT)
        if self.has_location:
            sorts.append(SORT_DISTANCE)
        sorts += [SORT_FEE, SORT_SOONEST, SORT_NAME]
        return [(sort, SORT_LABELS[sort]) for sort in sorts]

    @property
    def sort(self) -> str:
        return self.value(SearchParam.SORT)

    def error(self, name: str) -> str | None:
        return self.errors.get(name)

    @property
    def place(self) -> str:
        return self.value(SearchParam.PLACE)

    @property
    def error_list(self) -> list[tuple[str, str]]:
        """(id of the control to jump to, message) for the summary above the results."""
        group_names = set(self.groups)
        return [
            (f"group-{name}" if name in group_names else f"id_{name}", message)
            for name, message in sorted(self.errors.items())
        ]

    @property
    def error_slots(self) -> list[tuple[str, str]]:
        """Every field's error slot with its message ("" clears an earlier one)."""
        # The sort menu sits in the results region, which is swapped whole.
        return [
            (name, self.errors.get(name, "")) for name in FORM_FIELDS if name != SearchParam.SORT
        ]

    @property
    def count_slots(self) -> list[tuple[str, str]]:
        """Every live count on the form, by element id, for htmx to update out of band."""
        slots = [
            (f"count-{option.input_id}", option.count_label)
            for group in self.groups.values()
            for option in group.options
        ]
        slots += [(f"count-id_{name}", self.flag_count_label(name)) for name in FLAG_FIELDS]
        return slots

    @property
    def flag_values(self) -> dict[str, bool]:
        return {name: self.flag(name) for name in FLAG_FIELDS}

    @property
    def flag_counts(self) -> dict[str, str]:
        return {name: self.flag_count_label(name) for name in FLAG_FIELDS}


FLAG_FIELDS = (
    SearchParam.LGBTQ2S_AFFIRMING,
    SearchParam.SLIDING_SCALE,
    SearchParam.INSURANCE,
    SearchParam.DIRECT_BILLING,
    SearchParam.HAS_VIDEO,
    SearchParam.CAPTIONED_VIDEO,
)

# Names the form reads, for tests and for the template's error slots.
FORM_FIELDS = (
    SearchParam.PLACE,
    SearchParam.RADIUS,
    SearchParam.DELIVERY,
    SearchParam.HAS_VIDEO,
    SearchParam.CAPTIONED_VIDEO,
    SearchParam.CONCERN,
    SearchParam.MODALITY,
    SearchParam.POPULATION,
    SearchParam.LANGUAGE,
    SearchParam.GENDER,
    SearchParam.LIVED_EXPERIENCE,
    SearchParam.FAITH,
    SearchParam.LGBTQ2S_AFFIRMING,
    *STYLE_PARAMS,
    SearchParam.MAX_FEE,
    SearchParam.SLIDING_SCALE,
    SearchParam.INSURANCE,
    SearchParam.DIRECT_BILLING,
    SearchParam.CONTACT,
    SearchParam.ACCESSIBILITY,
    SearchParam.CONSULTATION_WITHIN,
    SearchParam.TEXT,
    SearchParam.SORT,
)


# --- cost planner ------------------------------------------------------------------------------

PLANNER_BUDGET = "budget"
PLANNER_FREQUENCY = "frequency"
WEEKLY, FORTNIGHTLY = "weekly", "every_two_weeks"
FREQUENCY_CHOICES = ((WEEKLY, "Weekly"), (FORTNIGHTLY, "Every two weeks"))
MAX_BUDGET_MINOR = 100_000_000  # a million: beyond that the arithmetic stops being planning


@dataclass(frozen=True)
class CostPlan:
    budget: str  # what the person typed, echoed back
    frequency: str
    error: str | None
    sentences: list[str]

    @property
    def submitted(self) -> bool:
        return bool(self.budget) or self.error is not None


def _plural(number: int, word: str) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def _weeks_phrase(sessions: int, frequency: str) -> str:
    weekly = f"{_plural(sessions, 'week')} weekly"
    fortnightly = f"{_plural(sessions * 2, 'week')} every two weeks"
    first, second = (fortnightly, weekly) if frequency == FORTNIGHTLY else (weekly, fortnightly)
    return f"about {first} or {second}"


def _covers(budget: str, sessions: int, frequency: str, *, lead: str) -> str:
    if sessions == 0:
        return f"{lead}{budget} does not cover a whole session."
    return (
        f"{lead}{budget} covers {_plural(sessions, 'session')}: "
        f"{_weeks_phrase(sessions, frequency)}."
    )


def _parse_budget(raw: str, currency: str) -> tuple[int | None, str | None]:
    text = raw.strip().replace(",", "").replace(" ", "")
    for prefix in ("CA$", "US$", "$"):
        if text.upper().startswith(prefix):
            text = text[len(prefix) :]
            break
    if not text:
        return None, "Enter your budget as an amount, such as 600."
    try:
        amount = decimal_number(text)
    except NotANumber:
        return None, "Enter your budget as a number, such as 600."
    except NumberTooLong:
        return None, f"Enter your budget as a number of at most {MAX_NUMBER_LENGTH} characters."
    if amount <= 0:
        return None, "Enter a budget greater than zero."
    # Compared before rounding to whole cents (whose quantize cannot hold 1e26 in Decimal's 28
    # digits); a part of a cent is dropped, so only a whole cent more is too much.
    if amount * 100 >= MAX_BUDGET_MINOR + 1:
        limit = format_money(MAX_BUDGET_MINOR, currency)
        return None, f"Enter a budget of at most {limit}."
    minor = int((amount * 100).quantize(Decimal("1"), rounding=ROUND_DOWN))
    if minor == 0:
        return None, "Enter a budget greater than zero."
    return minor, None


def cost_plan(*, therapist: TherapistProfile, params: QueryDict) -> CostPlan:
    """How many sessions a budget pays for, at the full fee and at the sliding-scale floor.

    Whole sessions only: nobody books two thirds of a session.
    """
    raw_budget = params.get(PLANNER_BUDGET, "")
    frequency = params.get(PLANNER_FREQUENCY, WEEKLY)
    if frequency not in (WEEKLY, FORTNIGHTLY):
        frequency = WEEKLY
    if PLANNER_BUDGET not in params:
        return CostPlan(budget="", frequency=frequency, error=None, sentences=[])
    budget_minor, error = _parse_budget(raw_budget, therapist.currency)
    if budget_minor is None:
        return CostPlan(budget=raw_budget, frequency=frequency, error=error, sentences=[])
    currency = therapist.currency
    budget = format_money(budget_minor, currency)
    if therapist.fee_minor == 0:
        return CostPlan(
            budget=raw_budget,
            frequency=frequency,
            error=None,
            sentences=["Sessions with this therapist are free of charge."],
        )
    sentences = [_covers(budget, budget_minor // therapist.fee_minor, frequency, lead="")]
    floor = therapist.sliding_scale_min_minor
    if floor is not None and floor < therapist.fee_minor:
        lead = f"At the sliding-scale floor of {format_money(floor, currency)}, "
        if floor == 0:
            sentences.append(f"{lead}sessions are free.")
        else:
            sentences.append(_covers(budget, budget_minor // floor, frequency, lead=lead))
    return CostPlan(budget=raw_budget, frequency=frequency, error=None, sentences=sentences)
