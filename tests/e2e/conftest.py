"""A real browser for the end-to-end walk: Chromium driven by Playwright's async API,
in the test's own event loop, next to the two nodes under test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from support.browser import CHROMIUM_ARGS, require_browser


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    executable = require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()
