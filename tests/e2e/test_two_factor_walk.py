"""Two-factor sign-in walked in a real browser on a desktop window and a 390 px phone:
from the settings to the account security page, the QR code as the browser draws it
read by a barcode reader (under the page's Content-Security-Policy, which must report
nothing), the code typed in, the recovery codes shown, and the next login's second
step. Screenshots go to ``test-artifacts/e2e/two-factor-<viewport>/NN-step.png``.
"""

from __future__ import annotations

import io
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import zxingcpp
from PIL import Image

from node.runtime.i18n import load_catalogues
from support.browser import ARTIFACTS
from support.contacts import add_account
from support.nodes import RunningNode, prepare_node
from support.web import PASSWORD
from web.app import TRANSLATIONS_DIR

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
ANNA = "anna@oldenburg.example"


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_set_up_two_factor_and_log_in_with_a_code(
    tmp_path: Path, database_url: str, browser: Any, viewport: str
) -> None:
    node = await prepare_node(tmp_path, "oldenburg", database_url)
    await node.start(run_workers=False)
    try:
        await _walk(node, browser, viewport)
    finally:
        await node.stop()


async def _walk(node: RunningNode, browser: Any, viewport: str) -> None:
    folder = ARTIFACTS / f"two-factor-{viewport}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    _ = load_catalogues(TRANSLATIONS_DIR, default="en").get("de").gettext
    await add_account(node, ANNA)

    context = await browser.new_context(viewport=VIEWPORTS[viewport], locale="de-DE")
    page = await context.new_page()
    page.set_default_timeout(15_000)
    complaints: list[str] = []
    page.on(
        "console",
        lambda message: complaints.append(message.text) if message.type == "error" else None,
    )
    shots = 0

    async def shot(step: str) -> None:
        nonlocal shots
        shots += 1
        await page.screenshot(path=folder / f"{shots:02d}-{step}.png", full_page=True)

    async def log_in() -> None:
        await page.goto(node.url + "/login")
        await page.get_by_label(_("E-mail address")).fill(ANNA)
        await page.get_by_label(_("Password"), exact=True).fill(PASSWORD)
        await page.get_by_role("button", name=_("Log in")).click()

    try:
        await log_in()
        await page.goto(node.url + "/settings")
        await page.get_by_role("link", name=_("Account security")).click()
        await shot("account-security")
        await page.get_by_role("link", name=_("Set up two-factor sign-in")).click()
        qr = page.get_by_role("img", name=_("QR code for your authenticator app"))
        await qr.wait_for()
        await shot("set-up")
        picture = Image.open(io.BytesIO(await qr.screenshot())).convert("L")
        [read] = zxingcpp.read_barcodes(picture)
        secret = parse_qs(urlsplit(read.text).query)["secret"][0]
        shown = (await page.locator("#two-factor-key").inner_text()).replace(" ", "")
        assert secret == shown
        totp = pyotp.TOTP(secret)

        await page.get_by_label(_("Your password")).fill(PASSWORD)
        await page.get_by_label(_("Code from your app"), exact=True).fill(totp.now())
        await page.get_by_role("button", name=_("Switch on two-factor sign-in")).click()
        codes = page.get_by_role("heading", name=_("Your recovery codes"))
        await codes.wait_for()
        assert await page.locator(".recovery-codes li").count() == 10
        await shot("recovery-codes")

        await page.get_by_role("button", name=_("Log out")).first.click()
        await log_in()
        await page.wait_for_url("**/login/code")
        await shot("second-step")
        step = totp.timecode(datetime.now(UTC))  # the next step: the current one is used
        await page.get_by_label(_("Code from your app or a recovery code")).fill(
            totp.generate_otp(step + 1)
        )
        await page.get_by_role("button", name=_("Log in")).click()
        await page.wait_for_url(lambda url: "/login" not in url)
        await shot("logged-in")
        assert not [c for c in complaints if "Content Security Policy" in c], complaints
    finally:
        await context.close()
