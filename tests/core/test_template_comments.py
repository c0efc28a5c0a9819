"""Django's ``{# … #}`` comment ends at the end of its line: one left open on a line is not a
comment at all, and its words are printed on the page (the search page once showed a note to
developers above its result count). Longer notes use ``{% comment %}``."""

from __future__ import annotations

import re
from pathlib import Path

import rapport

ROOT = Path(rapport.__file__).parent
OPEN_COMMENT = re.compile(r"\{#(?!.*#\})")


def test_no_template_leaves_a_one_line_comment_open():
    templates = [*ROOT.rglob("*.html"), *ROOT.rglob("*.txt")]
    assert len(templates) > 100  # the walk found the templates, so the check is not vacuous
    open_comments = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in templates
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if OPEN_COMMENT.search(line)
    ]
    assert open_comments == []


def test_the_check_catches_a_comment_left_open():
    assert OPEN_COMMENT.search("{# a note that goes on")
    assert not OPEN_COMMENT.search("{# a whole note #} <p>text</p>")
