"""A real gunicorn server against a database of its own, for tests that need true concurrency.

pytest-django's test database lives inside one transaction of the test process, which other
processes cannot see; concurrency tests therefore get a fresh database (a SQLite file in the
test's temporary folder, or, when the suite runs on PostgreSQL, a new database in the same
cluster, dropped afterwards), migrated and filled by ``rapport`` commands in subprocesses, and a
gunicorn server bound to 127.0.0.1 only on a free port, stopped by its PID whatever happens.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
RAPPORT = [sys.executable, "-m", "rapport.cli"]


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: Any


@dataclass
class LiveServer:
    port: int
    environment: dict[str, str]
    log: Path

    def post_json(self, path: str, payload: dict[str, Any], *, timeout: float = 60) -> Answer:
        request = urllib.request.Request(
            f"http://{HOST}:{self.port}{path}",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return Answer(
                    response.status, response.headers["Content-Type"], json.loads(response.read())
                )
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            return Answer(error.code, error.headers.get("Content-Type", ""), body)

    def run_python(self, code: str) -> str:
        """Run ``code`` in ``rapport shell`` against the server's database; its stdout."""
        return run_python(self.environment, code)


def run_python(environment: dict[str, str], code: str) -> str:
    finished = subprocess.run(  # noqa: S603 (our own interpreter and command)
        [*RAPPORT, "shell", "--no-imports", "-c", code],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if finished.returncode != 0:
        raise AssertionError(f"rapport shell failed:\n{finished.stderr[-3000:]}")
    return finished.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _suite_database_url() -> str | None:
    """The cluster's URL when the suite itself runs on PostgreSQL, else None (SQLite)."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return None
    return os.environ["DATABASE_URL"]


@contextlib.contextmanager
def fresh_database(folder: Path) -> Iterator[dict[str, str]]:
    """The environment for ``rapport`` commands against a new, migrated database."""
    environment = dict(
        os.environ,
        RAPPORT_ENV="development",
        DEBUG="0",
        RAPPORT_VAR_DIR=str(folder),
        LOG_LEVEL="WARNING",
    )
    cluster_url = _suite_database_url()
    if cluster_url is None:
        environment["DATABASE_URL"] = f"sqlite:///{folder / 'live.sqlite3'}"
        _migrate(environment)
        yield environment
        return

    import psycopg

    name = f"rapport_live_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(cluster_url)
    environment["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(cluster_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        _migrate(environment)
        yield environment
    finally:
        with psycopg.connect(cluster_url, autocommit=True) as admin:
            # FORCE: a server that died half-way may still hold connections.
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(environment: dict[str, str]) -> None:
    subprocess.run(  # noqa: S603
        [*RAPPORT, "migrate", "-v0"], env=environment, cwd=ROOT, check=True, capture_output=True
    )


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextlib.contextmanager
def _served(
    command: Callable[[int], list[str]],
    environment: dict[str, str],
    folder: Path,
    *,
    name: str,
    start_seconds: float,
) -> Iterator[LiveServer]:
    """``command(port)`` serving Rapport on 127.0.0.1, up once /healthz answers; stopped by its
    PID when the block ends, also on failure."""
    port = _free_port()
    log = folder / f"{name}.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(  # noqa: S603 (our own interpreter and commands)
            command(port), env=environment, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + start_seconds
        while not _healthy(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{name} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield LiveServer(port=port, environment=environment, log=log)
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def gunicorn(
    environment: dict[str, str], folder: Path, *, workers: int = 2, threads: int = 8
) -> contextlib.AbstractContextManager[LiveServer]:
    """gunicorn with ``workers`` processes of ``threads`` threads (see ``_served``)."""
    executable = str(Path(sys.executable).parent / "gunicorn")
    return _served(
        lambda port: [
            executable, "rapport.wsgi", "-b", f"{HOST}:{port}", "--workers", str(workers),
            "--threads", str(threads), "--timeout", "120", "--backlog", "256",
        ],
        environment, folder, name="gunicorn", start_seconds=60,
    )  # fmt: skip


def runserver(
    environment: dict[str, str], folder: Path
) -> contextlib.AbstractContextManager[LiveServer]:
    """Django's development server, as `make demo` runs it (see ``_served``); it builds its
    search index before it listens, which is slow the first time."""
    return _served(
        lambda port: [
            sys.executable, "-m", "rapport.cli", "runserver", "--noreload", f"{HOST}:{port}",
        ],
        environment, folder, name="runserver", start_seconds=90,
    )  # fmt: skip
