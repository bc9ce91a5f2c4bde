"""Every guide in notebooks/ runs, cell by cell, against a real ``scope serve``.

nbval executes each notebook in a fresh kernel and compares outputs with the
ones stored in the notebook (sanitized where values legitimately vary), so a
guide whose story stops matching the product fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import serve

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_guides() -> None:
    names = {nb.stem for nb in NOTEBOOKS}
    assert {"01_quickstart", "02_golden_set_comparison", "03_cost_and_latency"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_guide_runs_against_a_live_server(notebook: Path, tmp_path: Path) -> None:
    # database None: the embedded SQLite default, exactly as `make run` starts it.
    with serve(None) as server:
        assert server.api_key is not None
        env = {
            **_clean_env(),
            "SCOPE_BASE_URL": server.base_url,
            "SCOPE_API_KEY": server.api_key,
            "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
            "JUPYTER_DATA_DIR": str(tmp_path / "data"),
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
            "IPYTHONDIR": str(tmp_path / "ipython"),
        }
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval", str(notebook), "-p", "no:cacheprovider",
             "-p", "no:xdist", "-q", "-o", "addopts=", "-W", "ignore::DeprecationWarning",
             "--nbval-sanitize-with", str(ROOT / "notebooks" / "sanitize.cfg")],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert " passed" in result.stdout


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("SCOPE_", "PYTEST_"))}
