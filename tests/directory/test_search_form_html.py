"""The search form's option rows are written without the template engine; they must escape
exactly as Django's own escaping does."""

from __future__ import annotations

from django.utils.html import escape, format_html

from rapport.directory.forms import ChoiceGroup, Option


def test_option_rows_escape_every_value_as_django_does():
    hostile = Option(
        value="x'y\"<z>",
        label='<script>alert("A&B")</script>',
        checked=True,
        count=1234,
        input_id="id_concern_a&b",
    )
    plain = Option(value="grief", label="Grief", checked=False, count=None, input_id="id_g")
    group = ChoiceGroup(name="concern", legend="Concerns", options=[hostile, plain])

    html = str(group.options_html())

    expected_first = format_html(
        '<li><input type="checkbox" id="{}" name="concern" value="{}" checked> '
        '<label for="{}">{} <span class="facet-count" id="count-{}">(1,234)</span></label></li>',
        hostile.input_id,
        hostile.value,
        hostile.input_id,
        hostile.label,
        hostile.input_id,
    )
    expected_second = (
        '<li><input type="checkbox" id="id_g" name="concern" value="grief"> '
        '<label for="id_g">Grief <span class="facet-count" id="count-id_g"></span></label></li>'
    )
    assert html == f"{expected_first}\n{expected_second}"
    assert "<script>" not in html
    assert escape(hostile.label) in html
