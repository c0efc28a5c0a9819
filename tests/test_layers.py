"""Templates keep the apps' layer order too (import-linter checks the Python): an app's
templates name URLs, load tag libraries and include templates only of their own app or of apps
below it. The project's own templates (rapport/templates: the base page, errors, sign-in) sit on
top and may use any app."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RAPPORT = ROOT / "rapport"


def _layers() -> list[set[str]]:
    """The apps of each layer, lowest first, read from the import-linter contract in
    pyproject.toml (so the Python and the templates follow one list). "(rapport.care)" is a
    layer that does not exist yet; "a | b" are independent apps of one layer."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [contract] = config["tool"]["importlinter"]["contracts"]
    return [
        {name.strip().strip("()").removeprefix("rapport.") for name in layer.split("|")}
        for layer in reversed(contract["layers"])
    ]


LAYERS = _layers()

URL_NAME = re.compile(r"""\{%\s*url\s+['"]([a-z_]+):""")
TAG_LIBRARY = re.compile(r"\{%\s*load\s+([^%]+)%\}")
INCLUDED = re.compile(r"""\{%\s*(?:include|extends)\s+['"]([a-z_]+)/""")


def _level(app: str) -> int:
    for level, layer in enumerate(LAYERS):
        if app in layer:
            return level
    raise KeyError(app)


def _apps() -> list[str]:
    return sorted(
        path.name for path in RAPPORT.iterdir() if (path / "templates" / path.name).is_dir()
    )


def _own_template_libraries() -> dict[str, str]:
    """Tag library name -> the app that defines it."""
    return {
        library.stem: app
        for app in _apps()
        for library in (RAPPORT / app / "templatetags").glob("*.py")
        if library.stem != "__init__"
    }


@pytest.mark.parametrize("app", _apps())
def test_an_apps_templates_use_only_its_own_app_and_those_below(app):
    libraries = _own_template_libraries()
    wrong = []
    for template in sorted((RAPPORT / app / "templates").rglob("*.html")):
        text = template.read_text()
        used = set(URL_NAME.findall(text)) | set(INCLUDED.findall(text))
        for names in TAG_LIBRARY.findall(text):
            used |= {libraries[name] for name in names.split() if name in libraries}
        for other in used & set(_apps()):
            if other != app and _level(other) >= _level(app):
                wrong.append(f"{template.relative_to(RAPPORT)} uses {other}")
    assert wrong == []


def test_the_layer_list_names_every_app_with_templates():
    for app in _apps():
        _level(app)
