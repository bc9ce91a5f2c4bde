"""The Ruby SDK's own test suite (minitest), run as part of the project's tests.

The suite lives in ``sdks/ruby/test``: unit tests (the shared template vectors, the
cache with an injected clock, retries against a scripted socket) and integration tests
that start real ``scope serve`` processes with this interpreter (``SCOPE_PYTHON``).
A machine without Ruby fails here rather than skipping: CI installs it (``.ci/run``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SDK = Path(__file__).resolve().parents[2] / "sdks" / "ruby"
TIMEOUT_S = 600
MIN_RUNS = 200  # the vectors alone are ~170 tests: fewer means files were not loaded


@pytest.mark.slow
def test_ruby_sdk_suite_passes() -> None:
    ruby = shutil.which("ruby")
    if ruby is None:
        pytest.fail("ruby is not installed: the Ruby SDK (sdks/ruby) cannot be tested. "
                    "Install it with `apt-get install -y --no-install-recommends ruby` "
                    "(Ruby 3.1+; .ci/run does this).")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCOPE_")}
    env["SCOPE_PYTHON"] = sys.executable
    result = subprocess.run(
        [ruby, "-w", "-Ilib", "-Itest", "test/all.rb"], cwd=SDK, env=env,
        capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    report = f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    assert result.returncode == 0, f"the Ruby SDK's tests failed:\n{report}"
    summary = re.search(r"(\d+) runs, \d+ assertions, (\d+) failures, (\d+) errors, (\d+) skips",
                        result.stdout)
    assert summary is not None, f"no minitest summary in the output:\n{report}"
    runs, failures, errors, skips = (int(group) for group in summary.groups())
    assert (failures, errors, skips) == (0, 0, 0), report
    assert runs >= MIN_RUNS, f"only {runs} Ruby tests ran:\n{report}"
    # `ruby -w` must stay quiet about the SDK's own code.
    warnings = [line for line in result.stderr.splitlines()
                if "warning:" in line and str(SDK) in line]
    assert not warnings, "Ruby warnings in the SDK:\n" + "\n".join(warnings)
