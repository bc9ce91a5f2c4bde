"""The TypeScript data layer's unit tests (vitest), run as part of the Python suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXTENSION = Path(__file__).parents[2] / "extensions" / "scope_jupyterlab"


def test_typescript_unit_tests_pass() -> None:
    # scripts/setup.sh installs node_modules; without them the tests cannot run: fail.
    assert (EXTENSION / "node_modules" / ".bin" / "vitest").exists(), \
        "run scripts/setup.sh first: the extension's node_modules are missing"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "CI": "true"}  # vitest: run once, no watch, plain output
    result = subprocess.run(["jlpm", "test"], cwd=EXTENSION, env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert " passed" in output
