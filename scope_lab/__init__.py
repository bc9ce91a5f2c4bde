"""Scope's Jupyter-native side: the SDK, notebook widgets and analysis (in progress)."""

__all__: list[str] = []
