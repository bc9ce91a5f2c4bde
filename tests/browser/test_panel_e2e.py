"""End to end: the Scope panel in a real JupyterLab, in headless Chromium, against real Scope.

Chromium comes from Debian (``.ci/run`` installs it); Playwright never downloads one.
A missing browser fails this test rather than skipping it, so CI cannot pass without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.chromium import ARTIFACTS, chromium_tab
from tests.browser.jupyter import JupyterServer, run_jupyter
from tests.live import LiveServer

pytestmark = pytest.mark.slow

EMPTY_NOTEBOOK = {"cells": [], "metadata": {"kernelspec": {"name": "python3",
                  "display_name": "Python 3", "language": "python"}},
                  "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture
def lab(scope_server: LiveServer, tmp_path: Path) -> Iterator[JupyterServer]:
    settings = tmp_path / "lab-settings"
    settings.mkdir()
    # No news or update toasts over the page, and no "Select Kernel" dialog (it may
    # show when the notebook opens before the kernel specs are loaded).
    (settings / "overrides.json").write_text(json.dumps({
        "@jupyterlab/apputils-extension:notification":
            {"checkForUpdates": False, "fetchNews": "false"},
        "@jupyterlab/notebook-extension:tracker": {"autoStartDefaultKernel": True}}))
    with run_jupyter(tmp_path, app="lab", scope_url=scope_server.base_url,
                     api_key=scope_server.api_key,
                     args=(f"--LabApp.app_settings_dir={settings}",)) as server:
        (server.root / "panel.ipynb").write_text(json.dumps(EMPTY_NOTEBOOK))
        yield server


@pytest.fixture
def page(lab: JupyterServer, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    with chromium_tab(tmp_path / "chromium-profile", request.node.name, height=900,
                      timeout_ms=30_000) as tab:
        yield tab


def production(scope_server: LiveServer, name: str) -> int:
    response = httpx.get(f"{scope_server.base_url}/api/v1/prompts/{name}",
                         headers=scope_server.headers(), timeout=10)
    number: int = response.json()["production_version"]
    return number


def test_panel_lists_promotes_and_inserts_a_working_cell(
        page: Page, lab: JupyterServer, scope_server: LiveServer) -> None:
    page.goto(f"{lab.url}/lab/tree/panel.ipynb?token={lab.token}")
    page.locator('.jp-SideBar [data-id="scope-panel"]').click()
    panel = page.locator("#scope-panel")

    greeting = panel.locator('.scope-prompt[data-name="greeting"]')
    expect(greeting.locator(".scope-badge-production")).to_have_text("production v1")
    expect(panel.locator('.scope-prompt[data-name="farewell"] .scope-badge-none')).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "panel-list.png"))

    # Promote v2 from the panel, through the confirmation dialog.
    greeting.locator(".scope-prompt-row").click()
    v2 = greeting.locator('.scope-version[data-number="2"]')
    expect(v2.locator(".scope-status")).to_have_text("draft")
    v2.locator(".scope-promote").click()
    dialog = page.locator(".jp-Dialog", has_text="Promote greeting v2?")
    dialog.locator(".jp-mod-accept").click()
    expect(greeting.locator(".scope-badge-production")).to_have_text("production v2")
    expect(greeting.locator('.scope-version[data-number="1"] .scope-status')).to_have_text(
        "archived")
    assert production(scope_server, "greeting") == 2

    # Insert into the open notebook, then run that cell in the notebook's kernel.
    expect(page.locator(".jp-Notebook")).to_be_visible()
    greeting.locator(".scope-insert").click()
    expect(panel.locator(".scope-message")).to_have_text("Cell added to the notebook.")
    # Found by its text: Shift+Enter below adds another cell after it.
    cell = page.locator(".jp-Notebook .jp-CodeCell", has_text='scope.prompts.get("greeting")')
    expect(cell).to_have_count(1)
    # A cell run before the kernel is connected is not executed: wait as a person would.
    expect(page.locator(".jp-StatusBar-Widget", has_text="Python 3 (ipykernel) | Idle")
           ).to_be_visible(timeout=60_000)
    # As a person would: select the cell (making the notebook current) and Shift+Enter.
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Shift+Enter")
    expect(cell.locator(".jp-OutputArea-output")).to_contain_text("Hello from v2",
                                                                  timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "panel-inserted.png"))


def test_unreachable_scope_is_shown_in_the_panel(page: Page, lab: JupyterServer) -> None:
    httpx.post(f"{lab.url}/scope/settings", json={"base_url": "http://127.0.0.1:9"},
               headers={"Authorization": f"token {lab.token}"}, timeout=10).raise_for_status()
    page.goto(f"{lab.url}/lab?token={lab.token}")
    page.locator('.jp-SideBar [data-id="scope-panel"]').click()
    error = page.locator("#scope-panel .scope-error")
    expect(error).to_contain_text("Scope is unreachable at http://127.0.0.1:9")
    page.screenshot(path=str(ARTIFACTS / "panel-unreachable.png"))
