"""Scope API: prompt registry and evaluation service."""

__version__ = "0.1.0"
