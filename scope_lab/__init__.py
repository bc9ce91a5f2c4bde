"""Scope's Jupyter-native side: the SDK, analysis and notebook widgets.

``from scope_lab import Scope`` gives the client; ``scope_lab.stats``,
``scope_lab.frames`` and ``scope_lab.charts`` hold the analysis functions. Names are
loaded on first use (PEP 562), so ``import scope_lab`` costs almost nothing and a
production app that only fetches prompts never imports pandas or a chart library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scope_lab import charts, frames, stats
    from scope_lab._async.client import AsyncScope
    from scope_lab._diff import VersionDiff
    from scope_lab._prompt import Prompt
    from scope_lab._sync.client import Scope
    from scope_lab.errors import (
        APIError,
        BadRequest,
        ConfigurationError,
        Conflict,
        ConnectionError,
        Forbidden,
        MissingVariablesError,
        NotFound,
        PayloadTooLarge,
        ProviderError,
        ProviderTimeout,
        RateLimited,
        RunTimeout,
        ScopeError,
        ServerError,
        TemplateError,
        TemplateSyntaxError,
        TemplateValueError,
        Unauthenticated,
        ValidationError,
    )

_ERRORS = ("APIError", "BadRequest", "ConfigurationError", "Conflict", "ConnectionError",
           "Forbidden", "MissingVariablesError", "NotFound", "PayloadTooLarge",
           "ProviderError", "ProviderTimeout", "RateLimited", "RunTimeout", "ScopeError",
           "ServerError",
           "TemplateError", "TemplateSyntaxError", "TemplateValueError", "Unauthenticated",
           "ValidationError")
_WHERE: dict[str, str] = {
    "Scope": "scope_lab._sync.client",
    "AsyncScope": "scope_lab._async.client",
    "Prompt": "scope_lab._prompt",
    "VersionDiff": "scope_lab._diff",
    **dict.fromkeys(_ERRORS, "scope_lab.errors"),
}
_MODULES = ("charts", "frames", "stats")

__all__ = [
    "APIError",
    "AsyncScope",
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "ConnectionError",
    "Forbidden",
    "MissingVariablesError",
    "NotFound",
    "PayloadTooLarge",
    "Prompt",
    "ProviderError",
    "ProviderTimeout",
    "RateLimited",
    "RunTimeout",
    "Scope",
    "ScopeError",
    "ServerError",
    "TemplateError",
    "TemplateSyntaxError",
    "TemplateValueError",
    "Unauthenticated",
    "ValidationError",
    "VersionDiff",
    "charts",
    "frames",
    "stats",
]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        module = importlib.import_module(f"scope_lab.{name}")
    elif name in _WHERE:
        module = getattr(importlib.import_module(_WHERE[name]), name)
    else:
        raise AttributeError(f"module 'scope_lab' has no attribute {name!r}")
    globals()[name] = module  # later lookups skip this function
    return module


def __dir__() -> list[str]:
    return sorted(__all__)
