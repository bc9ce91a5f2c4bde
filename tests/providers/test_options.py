"""Provider options that HTTP clients would refuse at call time are refused up front."""

from __future__ import annotations

from typing import Any

import pytest

from scope_api.providers.options import problem


@pytest.mark.parametrize("options", [
    {},
    {"headers": {"X-Sim-Fault": "status=503", "x-proxy-token": "a b\tc~!"}},
    {"headers": None, "timeout_s": 2.5},
    {"timeout_s": 3600},
    {"latency_ms": 0},
    {"latency_ms": 250.5},
    {"deployments": {"gpt-4o": "prod-4o"}, "api_version": "2025-01-01-preview"},
    {"something_new": {"nested": [1, "two"]}},  # unknown keys are kept and ignored
])
def test_usable_options_pass(options: dict[str, Any]) -> None:
    assert problem(options) is None


@pytest.mark.parametrize(("options", "says"), [
    ({"headers": ["X-A: 1"]}, "options.headers must be an object"),
    ({"headers": {"X-Retries": 3}}, "the value of 'X-Retries' must be a string"),
    ({"headers": {"x-a": "é"}}, "only visible ASCII"),
    ({"headers": {"x-a": "a\nb"}}, "only visible ASCII"),
    ({"headers": {"x-a": "a\r\nX-Injected: 1"}}, "only visible ASCII"),
    ({"headers": {"bad name": "1"}}, "'bad name' is not a valid HTTP header name"),
    ({"headers": {"": "1"}}, "is not a valid HTTP header name"),
    ({"timeout_s": 0}, "options.timeout_s must be a number of seconds above 0"),
    ({"timeout_s": -1}, "options.timeout_s"),
    ({"timeout_s": "10"}, "options.timeout_s"),
    ({"timeout_s": True}, "options.timeout_s"),
    ({"timeout_s": 3601}, "at most 3600"),
    ({"timeout_s": float("inf")}, "NaN or Infinity"),
    ({"latency_ms": -5}, "options.latency_ms must be a number from 0 to 600,000"),
    ({"latency_ms": "fast"}, "options.latency_ms"),
    ({"nested": {"x": float("nan")}}, "NaN or Infinity"),
    ({"deployments": {"gpt-4o": ""}}, "options.deployments must be an object"),
    ({"deployments": "prod"}, "options.deployments must be an object"),
    ({"api_version": 2025}, "options.api_version must be a non-empty string"),
])
def test_unusable_options_say_why(options: dict[str, Any], says: str) -> None:
    assert says in (problem(options) or "no problem found")
