"""What a provider's ``options`` may hold: checked when they are saved (``422``) and when
a stored provider is loaded for a call (rows saved before these checks were not).

Every option is optional, and keys Scope does not know are kept and ignored.

* ``headers``: extra request headers, names to values. A name is an HTTP token; a value
  is visible ASCII, spaces and tabs. HTTP clients refuse anything else when they send
  the request (a line break, a ``é``), which made every call on the provider fail.
* ``timeout_s``: seconds to wait for the provider's answer, above 0 and at most 3600.
* ``latency_ms`` (the simulator): added latency per call, 0 to 600,000.
* ``deployments`` (Azure OpenAI): model names to deployment names; ``api_version``: a
  non-empty string.

No option may hold NaN or an infinity: JSON has neither (Python's parser accepts them,
PostgreSQL's ``json`` refuses them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from scope_api.schemas.common import storable

MAX_TIMEOUT_S = 3600
MAX_LATENCY_MS = 600_000
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")


def problem(options: Mapping[str, Any]) -> str | None:
    """Why ``options`` cannot be used, or ``None`` when they can."""
    try:
        storable(options)
    except ValueError as exc:
        return f"options {exc}"
    for check in (_headers, _timeout, _latency, _azure):
        found = check(options)
        if found is not None:
            return found
    return None


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value)


def _headers(options: Mapping[str, Any]) -> str | None:
    headers = options.get("headers")
    if headers is None:
        return None
    if not isinstance(headers, Mapping):
        return "options.headers must be an object of header names to strings"
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            return f"options.headers: {name!r} is not a valid HTTP header name"
        if not isinstance(value, str):
            return f"options.headers: the value of {name!r} must be a string"
        if not _FIELD_VALUE.fullmatch(value):
            return (f"options.headers: the value of {name!r} may hold only visible ASCII "
                    "characters, spaces and tabs")
    return None


def _timeout(options: Mapping[str, Any]) -> str | None:
    value = options.get("timeout_s")
    if value is None or (_number(value) and 0 < value <= MAX_TIMEOUT_S):
        return None
    return f"options.timeout_s must be a number of seconds above 0, at most {MAX_TIMEOUT_S}"


def _latency(options: Mapping[str, Any]) -> str | None:
    value = options.get("latency_ms")
    if value is None or (_number(value) and 0 <= value <= MAX_LATENCY_MS):
        return None
    return f"options.latency_ms must be a number from 0 to {MAX_LATENCY_MS:,}"


def _azure(options: Mapping[str, Any]) -> str | None:
    deployments = options.get("deployments")
    if deployments is not None and not (
            isinstance(deployments, Mapping)
            and all(isinstance(d, str) and d for d in deployments.values())):
        return "options.deployments must be an object of model names to deployment names"
    version = options.get("api_version")
    if version is not None and not (isinstance(version, str) and version):
        return "options.api_version must be a non-empty string"
    return None
