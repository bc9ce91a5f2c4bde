"""Jupyter Server extension behind the Scope panel in JupyterLab.

The panel never talks to Scope itself: it calls this Jupyter server (``/scope/...``,
authenticated by Jupyter's own login), which holds the Scope URL and API key and
forwards the calls. Threat model: the API key lives only in this server process's
memory (from ``SCOPE_API_KEY`` or the panel's settings form); no response carries it,
so a browser, its extensions or its cache never see it, and no CORS is needed.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from scope_lab.jupyter._connection import Connection
from scope_lab.jupyter._handlers import ProxyHandler, SettingsHandler


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Tell Jupyter Server which module to load."""
    return [{"module": "scope_lab.jupyter"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register ``/scope/settings`` and ``/scope/api/<path>`` on the server."""
    connection = Connection.from_env()
    web_app = server_app.web_app
    base = web_app.settings["base_url"]
    options = {"connection": connection}
    web_app.add_handlers(".*$", [
        (url_path_join(base, "scope", "settings"), SettingsHandler, options),
        (url_path_join(base, "scope", "api", "(.*)"), ProxyHandler, options),
    ])
    server_app.log.info("Scope panel proxy enabled (Scope at %s)",
                        connection.base_url or "not configured")
