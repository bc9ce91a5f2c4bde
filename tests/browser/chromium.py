"""Debian's Chromium driven by Playwright, as every browser test here opens it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
# Without the background-networking flags Chromium's connections are refused by this
# machine's closed network, many at a time.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@contextmanager
def chromium_tab(profile: Path, name: str, *, height: int, timeout_ms: int,
                 full_page: bool = False) -> Iterator[Page]:
    """A tab in a fresh headless Chromium; its last state, pass or fail, is saved as
    ``artifacts/<name>.png``: what to look at when the test fails."""
    assert CHROMIUM.exists(), "Chromium is missing: apt-get install chromium (see .ci/run)"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1400, "height": height})
        try:
            tab = browser.new_page()
            tab.set_default_timeout(timeout_ms)
            try:
                yield tab
            finally:
                tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
        finally:
            browser.close()
