"""The site's own address, for links that leave a request behind (e-mails, calendar feeds).

A task worker has no request to read the host name from, so every absolute link starts with
``SITE_URL``. Outside production it follows the port the demo serves on (``RAPPORT_PORT``, set by
``make demo PORT=…`` through ``scripts/serve-demo``), so a link in an e-mail opens the server that
sent it; production must name its https:// address itself.
"""

from __future__ import annotations

from rapport.core.env import Env

DEFAULT_PORT = 8000
# The demo listens on the loopback address only: nothing on the network can reach it.
DEMO_HOST = "127.0.0.1"


def demo_port(env: Env) -> int:
    """The port `make demo` serves on: RAPPORT_PORT, 8000 when unset."""
    return env.int("RAPPORT_PORT", DEFAULT_PORT, minimum=1, maximum=65535)


def site_url(env: Env, *, production: bool) -> str:
    """SITE_URL without a trailing slash; unset, "" in production (settings then refuse to
    start) and the demo's own address otherwise."""
    default = "" if production else f"http://{DEMO_HOST}:{demo_port(env)}"
    return env.str("SITE_URL", default).rstrip("/")
