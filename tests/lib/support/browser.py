"""The browser of the end-to-end tests: Debian's Chromium, never a downloaded one.

``.ci/run`` installs ``chromium`` when it is missing and sets
``ZWILLING_REQUIRE_BROWSER=1``, which turns the skip on a machine without it into a
failure, so that CI cannot pass without having walked through the pages.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "e2e"


def chromium_path() -> Path:
    return Path(os.environ.get("ZWILLING_CHROMIUM", "/usr/bin/chromium"))


def require_browser() -> Path:
    """The Chromium binary, or skip (fail under ZWILLING_REQUIRE_BROWSER=1) with the reason."""
    path = chromium_path()
    if path.exists():
        return path
    reason = f"no Chromium at {path} (Debian: apt-get install chromium)"
    if os.environ.get("ZWILLING_REQUIRE_BROWSER") == "1":
        pytest.fail(f"ZWILLING_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)
