"""The Scope panel's prebuilt JupyterLab extension (the server side is ``scope_lab.jupyter``)."""

from __future__ import annotations


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the built extension is, for ``jupyter labextension develop``."""
    return [{"src": "labextension", "dest": "scope-jupyterlab"}]
