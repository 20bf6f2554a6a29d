"""Browser tests: Debian's Chromium driven by Playwright.

Why the async API, and not pytest-playwright's sync fixtures (``browser``, ``page``): Playwright's
sync API keeps its own event loop marked as running in the main thread between calls, for as long
as its (session-scoped) ``playwright`` fixture lives. Every fixture or test of this suite that uses
asyncio afterwards (``migrated`` calls ``asyncio.run``; the async tests run on pytest-asyncio's
session loop) then fails with "cannot be called from a running event loop". So the browser tests
are ``async def`` tests on the session loop, like the rest of the suite, and launch Chromium with
``async_playwright``; they can use ``rt`` and the persona fixtures directly.

The launch options still come from pytest-playwright's ``browser_type_launch_args`` (so ``--headed``
and ``--slowmo`` keep working), overridden here to use Debian's Chromium with the team's flags.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright, expect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
#: Timeout of every Playwright wait and `expect` assertion, in milliseconds.
TIMEOUT_MS = 10_000
#: Where the screenshots of the interface are written: a temporary folder, unless
#: CONFIDE_SCREENSHOTS_DIR names one (`make screenshots` refreshes docs/screenshots).
SCREENSHOTS = Path(
    os.environ.get("CONFIDE_SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "confide-screenshots"
)

expect.set_options(timeout=TIMEOUT_MS)


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = (
        f"Debian's Chromium is missing at {CHROMIUM} (apt-get install chromium): "
        "browser tests skipped (with CI=true they fail)."
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def _chromium_available() -> None:
    """Checked before the other fixtures of these tests (such as the live server) start."""
    _require_chromium()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def playwright() -> None:
    """pytest-playwright's sync fixtures would break the asyncio tests of the suite: see above."""
    pytest.fail(
        "tests/browser use the async `chromium` fixture; pytest-playwright's sync `playwright`, "
        "`browser`, `context` and `page` fixtures cannot share a process with asyncio tests.",
        pytrace=False,
    )


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def chromium(browser_type_launch_args: dict[str, Any]) -> AsyncIterator[Browser]:
    """One Chromium for the browser tests, closed when they are done."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(**browser_type_launch_args)
        try:
            yield browser
        finally:
            await browser.close()


#: axe-core, installed from npm by `make browser` (scripts/ensure_axe.sh).
AXE = (
    Path(__file__).resolve().parents[2]
    / "build"
    / "node"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        message = f"axe-core is missing at {AXE}: run `make browser` (npm install axe-core)."
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()
