"""`make demo PORT=…`: the server listens there and every e-mailed link starts there.

Running the demo itself takes minutes, so the tests stop one step short: the settings'
function that turns the port into SITE_URL, what `make -n` hands the serving script, and what
that script would run (its --dry-run), which starts no process.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from rapport.core.env import Env
from rapport.core.siteurl import site_url

ROOT = Path(__file__).resolve().parents[2]


# --- the site's address from the port ---------------------------------------------------------


def test_the_demo_default_is_port_8000_on_the_loopback_address():
    assert site_url(Env({}), production=False) == "http://127.0.0.1:8000"


def test_another_port_moves_every_link():
    assert site_url(Env({"RAPPORT_PORT": "8123"}), production=False) == "http://127.0.0.1:8123"


def test_an_explicit_site_url_wins_over_the_port_and_loses_its_trailing_slash():
    source = {"RAPPORT_PORT": "8123", "SITE_URL": "http://localhost:9000/"}
    assert site_url(Env(source), production=False) == "http://localhost:9000"


def test_production_never_guesses_an_address_from_a_port():
    assert site_url(Env({"RAPPORT_PORT": "8123"}), production=True) == ""


@pytest.mark.parametrize("port", ["0", "65536", "eighty", "80.5"])
def test_a_port_that_cannot_be_one_names_the_variable(port):
    with pytest.raises(ImproperlyConfigured) as raised:
        site_url(Env({"RAPPORT_PORT": port}), production=False)
    assert "RAPPORT_PORT" in str(raised.value)


# --- make and the serving script ----------------------------------------------------------------


def _run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    # A clean environment: the developer's own PORT, SITE_URL or EMAIL_BACKEND must not leak in.
    base = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    return subprocess.run(  # noqa: S603 (fixed commands from this repository)
        command, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def _serve_line(make_output: str) -> str:
    [line] = [line for line in make_output.splitlines() if "scripts/serve-demo" in line]
    return line


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_demo_hands_the_port_to_the_serving_script():
    dry = _run(["make", "-n", "demo", "PORT=8123"])
    assert dry.returncode == 0, dry.stderr
    assert _serve_line(dry.stdout).split() == ["RAPPORT_PORT=8123", "scripts/serve-demo"]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_demo_without_a_port_serves_on_8000():
    dry = _run(["make", "-n", "serve"])
    assert dry.returncode == 0, dry.stderr
    assert _serve_line(dry.stdout).split() == ["RAPPORT_PORT=8000", "scripts/serve-demo"]


def test_the_script_serves_on_the_port_and_links_to_it():
    plan = _run(["scripts/serve-demo", "--dry-run"], RAPPORT_PORT="8123")
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    runs = [line.removeprefix("would run: ") for line in lines if line.startswith("would run:")]
    # The web server binds the loopback address only, on the port asked for.
    assert runs[-1].endswith("rapport runserver 127.0.0.1:8123")
    # The worker that sends most e-mails reads the same port, so its links agree.
    assert all("RAPPORT_PORT=8123 " in run for run in runs)
    assert any(run.endswith("rapport db_worker") for run in runs)
    assert "with SITE_URL=http://127.0.0.1:8123" in lines
    assert "Links in e-mails start with http://127.0.0.1:8123." in lines


def test_the_script_says_where_e_mails_are_written():
    plan = _run(["scripts/serve-demo", "--dry-run"])
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.splitlines()[0] == (
        "Rapport is running on http://127.0.0.1:8000 (Ctrl-C to stop)."
    )
    assert "E-mails are written to var/mail/ (one .eml file per message" in plan.stdout
    assert "EMAIL_BACKEND=rapport.core.mail.MessageFileBackend" in plan.stdout


@pytest.mark.parametrize("port", ["0", "70000", "80a", "-1"])
def test_the_script_refuses_a_port_that_cannot_be_one(port):
    plan = _run(["scripts/serve-demo", "--dry-run"], RAPPORT_PORT=port)
    assert plan.returncode == 2
    assert f"got '{port}'" in plan.stderr
    assert plan.stdout == ""
