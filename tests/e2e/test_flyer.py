"""The printed flyer, in a real browser: Chromium prints it to PDF on an A4 or A5
sheet (the size comes from the stylesheet's @page rules, not from the print call),
on one page, and the QR code on the printed page decodes to the node's registration
address. The PDFs and screenshots stay in ``test-artifacts/e2e/flyer/``."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from support.browser import ARTIFACTS
from support.nodes import RunningNode, prepare_node

pytestmark = pytest.mark.browser

# ISO 216 in PostScript points (1/72 in): width, height.
SHEETS = {"a4": (595.28, 841.89), "a5": (419.53, 595.28)}
TOLERANCE_POINTS = 2.0
MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\]")
PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?!s)")


@pytest.fixture
async def node(tmp_path: Path, database_url: str) -> AsyncIterator[RunningNode]:
    running = await prepare_node(
        tmp_path,
        "cholet",
        database_url,
        overrides={"branding": {"primary_colour": "#a4123f", "accent_colour": "#1d4f91"}},
    )
    await running.start(run_workers=False)
    try:
        yield running
    finally:
        await running.stop()


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """The MediaBox of every page of a PDF as Chromium writes it (uncompressed)."""
    return [(float(w), float(h)) for w, h in MEDIA_BOX.findall(pdf)]


def decoded(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png)).convert("L")
    return [result.text for result in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize(("language", "size"), [("fr", "a4"), ("de", "a5"), ("en", "a5")])
async def test_flyer_prints_on_its_sheet_with_a_working_qr_code(
    browser: Any, node: RunningNode, language: str, size: str
) -> None:
    folder = ARTIFACTS / "flyer"
    folder.mkdir(parents=True, exist_ok=True)
    context = await browser.new_context(viewport={"width": 900, "height": 1300})
    try:
        page = await context.new_page()
        response = await page.goto(f"{node.url}/flyer?lang={language}&size={size}")
        assert response is not None and response.status == 200
        await page.emulate_media(media="print")
        assert not await page.locator(".flyer-tools").is_visible()
        colour = await page.locator(".flyer__portal").evaluate("e => getComputedStyle(e).color")
        assert colour == "rgb(164, 18, 63)"  # the city's primary colour, from /theme.css

        pdf = await page.pdf(prefer_css_page_size=True, print_background=True)
        (folder / f"flyer-{language}-{size}.pdf").write_bytes(pdf)
        assert pdf.startswith(b"%PDF-")
        sizes = page_sizes(pdf)
        assert len(PAGE_OBJECT.findall(pdf)) == 1, "the flyer must fit on one sheet"
        assert len(sizes) == 1
        width, height = sizes[0]
        expected_width, expected_height = SHEETS[size]
        assert abs(width - expected_width) <= TOLERANCE_POINTS, (width, size)
        assert abs(height - expected_height) <= TOLERANCE_POINTS, (height, size)

        png = await page.locator("main.flyer").screenshot()
        (folder / f"flyer-{language}-{size}.png").write_bytes(png)
        assert decoded(png) == [f"{node.url}/register"]
    finally:
        await context.close()
