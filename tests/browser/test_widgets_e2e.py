"""End to end: the quickstart's widgets in a real JupyterLab, in headless Chromium.

The quickstart notebook runs top to bottom in JupyterLab against a real ``scope
serve``; the test then looks at what a user sees: the editor highlights the
template's variables, the test panel shows the models' outputs, and the golden-set
comparison's grid fills with results. Screenshots go to ``tests/browser/artifacts``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.chromium import ARTIFACTS, chromium_tab
from tests.browser.jupyter import JupyterServer, run_jupyter
from tests.live import serve

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def quickstart_lab(tmp_path: Path) -> Iterator[JupyterServer]:
    settings = tmp_path / "lab-settings"
    settings.mkdir()
    (settings / "overrides.json").write_text(json.dumps({
        "@jupyterlab/apputils-extension:notification":
            {"checkForUpdates": False, "fetchNews": "false"}}))
    with serve(None) as scope, run_jupyter(
            tmp_path, app="lab", scope_url=scope.base_url, api_key=scope.api_key,
            args=(f"--LabApp.app_settings_dir={settings}",
                  "--LabApp.expose_app_in_browser=True")) as lab:
        shutil.copy(ROOT / "notebooks" / "01_quickstart.ipynb", lab.root / "quickstart.ipynb")
        yield lab


@pytest.fixture
def page(quickstart_lab: JupyterServer, tmp_path: Path,
         request: pytest.FixtureRequest) -> Iterator[Page]:
    # Depends on the lab so the last screenshot is taken while the lab still runs.
    with chromium_tab(tmp_path / "chromium-profile", request.node.name, height=1000,
                      timeout_ms=60_000, full_page=True) as tab:
        yield tab


def test_the_quickstart_widgets_work_in_jupyterlab(page: Page,
                                                   quickstart_lab: JupyterServer) -> None:
    lab = quickstart_lab
    page.goto(f"{lab.url}/lab/tree/quickstart.ipynb?token={lab.token}")
    expect(page.locator(".jp-Notebook")).to_be_visible()
    # Run every cell, as a user would with Run > Run All Cells, once the kernel is up.
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=120_000)
    page.locator(".jp-Notebook").click()
    page.get_by_role("menuitem", name="Run").click()
    page.get_by_text("Run All Cells", exact=True).click()

    # The editor: the template's variables highlighted, and listed as chips.
    variable = page.locator(".scope-seg-variable").first
    expect(variable).to_be_visible(timeout=120_000)
    expect(page.locator('[data-testid="scope-variable"]').first).to_be_visible()
    chips = page.locator('[data-testid="scope-variable"]').all_inner_texts()
    assert any("company" in chip for chip in chips), chips
    variable.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "widgets-editor.png"))

    # The test panel: both versions on two models answered.
    outputs = page.locator('[data-testid="scope-output"][data-status="succeeded"]')
    expect(outputs).to_have_count(4, timeout=120_000)
    expect(outputs.first).to_contain_text("Simulated answer")
    outputs.first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "widgets-test-panel.png"))

    # The comparison: 3 items × 2 versions × 2 models, every cell filled, then a summary.
    cells = page.locator('[data-testid="scope-run-cell"][data-status="succeeded"]')
    expect(cells).to_have_count(12, timeout=120_000)
    expect(page.locator('[data-testid="scope-summary-row"]')).to_have_count(4)
    cells.first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "widgets-comparison.png"))
