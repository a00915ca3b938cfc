"""Find people and the interest step, walked in a real browser on two real nodes.

Anna (Oldenburg, German) looks through Cholet's profiles herself: she narrows the list
to one interest, reads why each profile fits, and asks one of them for contact. Then
she changes her interests on her profile with the filter box: with script the list
narrows while she types, the counter and the chosen list follow her ticks; without
script the same filter works through its button. On a desktop window and a 390 px
phone; elements are found by label, role and accessible name only. Every step leaves
a screenshot in ``test-artifacts/e2e/people-<viewport>/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from node.runtime.i18n import load_catalogues
from support.browser import ARTIFACTS
from support.contacts import ANNA, Cities, twin_cities
from support.federation import wait_for
from support.nodes import RunningNode, wake
from support.population import add_resident, person, pseudonym_urls, recompute, remote_vectors
from support.web import PASSWORD
from web.app import TRANSLATIONS_DIR

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


async def more_of_cholet(cities: Cities) -> None:
    """A few more residents of Cholet, two of them singing in a choir like Anna."""
    cholet, oldenburg = cities.cholet, cities.oldenburg
    added = [
        await add_resident(
            cholet,
            person(interests, languages={"fr": "native", "de": "B2"}, age_band=band),
            language="fr",
        )
        for interests, band in (
            (["music_making.choir", "food.baking"], "40-49"),
            (["music_making.choir", "outdoors.hiking"], "60-69"),
            (["games.chess"], "20-29"),
            (["outdoors.hiking", "sport.running"], "30-39"),
        )
    ]
    actors = [(await pseudonym_urls(cholet, rid))[oldenburg.config.actor_url] for rid in added]

    async def arrived() -> bool:
        for node in (oldenburg, cholet):
            assert node.app is not None
            wake(node.app)
        return set(actors) <= set(await remote_vectors(oldenburg))

    await wait_for(arrived, within=120, what="Cholet's residents at Oldenburg")
    await recompute(oldenburg)


class Walk:
    def __init__(self, page: Any, folder: Path) -> None:
        self.page = page
        self.folder = folder
        page.set_default_timeout(15_000)

    async def shot(self, step: str) -> None:
        number = len(list(self.folder.glob("*.png"))) + 1
        await self.page.screenshot(path=self.folder / f"{number:02d}-{step}.png", full_page=True)

    async def fits_the_width(self) -> None:
        """Nothing sticks out sideways (on the phone above all)."""
        wide = await self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert wide <= 1, f"the page is {wide} px wider than the window"


async def log_in(walk: Walk, node: RunningNode, _: Callable[[str], str]) -> None:
    page = walk.page
    await page.goto(node.url + "/login")
    await page.get_by_label(_("E-mail address")).fill(ANNA)
    await page.get_by_label(_("Password")).fill(PASSWORD)
    await page.get_by_role("button", name=_("Log in")).click()
    await page.wait_for_url("**/dashboard**")


async def find_and_ask(walk: Walk, _: Callable[[str], str]) -> None:
    page = walk.page
    await page.get_by_role("link", name=_("Find people")).click()
    await page.wait_for_url("**/people")
    await walk.shot("people")
    ask = page.get_by_role("button", name=_("Yes, I'd like contact"))
    assert await page.get_by_role("listitem").filter(has=ask).count() == 5  # all of Cholet

    await page.get_by_label(_("Interests"), exact=True).select_option(label="Chor")
    await page.get_by_role("button", name=_("Show profiles")).click()
    await page.wait_for_url("**/people?interest=music_making.choir**")
    await walk.shot("people-choir")
    await walk.fits_the_width()
    found = page.get_by_role("listitem").filter(has=ask)
    assert await found.count() == 3  # Bruno and the two choir singers
    for i in range(3):
        assert "Chor" in await found.nth(i).inner_text()
    assert await page.get_by_label(_("Interests"), exact=True).input_value() == "music_making.choir"

    await found.nth(2).get_by_role("button", name=_("Yes, I'd like contact")).click()
    await page.wait_for_url("**/contacts/requests?done=asked")
    status = page.get_by_role("status").filter(
        has_text=_("Your request has been sent. You will see here when it is answered.")
    )
    assert await status.count() == 1
    await walk.shot("asked")


async def interests_with_script(walk: Walk, node: RunningNode, _: Callable[[str], str]) -> None:
    page = walk.page
    await page.goto(node.url + "/profile")
    counter = page.get_by_text("2 von höchstens 20 gewählt")
    assert await counter.count() == 1
    box = page.get_by_label(_("Filter the list"))
    await box.fill("schwimm")
    swim = page.get_by_label("Schwimmen", exact=True)
    assert await swim.is_visible()
    assert not await page.get_by_label("Chor", exact=True).is_visible()
    assert await page.get_by_label("Chor", exact=True).is_checked()  # hidden, still chosen
    assert await page.get_by_role("status").filter(has_text="„schwimm“").count() == 1
    await swim.check()
    assert await page.get_by_text("3 von höchstens 20 gewählt").count() == 1
    chosen = page.get_by_role("list", name=_("Chosen interests"))
    assert "Schwimmen" in await chosen.inner_text()
    await walk.shot("interests-filtered")
    await walk.fits_the_width()
    await box.fill("")
    assert await page.get_by_label("Chor", exact=True).is_visible()
    await page.get_by_role("button", name=_("Save profile")).click()
    await page.wait_for_url("**/profile?saved=1")
    assert await page.get_by_text("3 von höchstens 20 gewählt").count() == 1
    await walk.shot("interests-saved")


async def interests_without_script(walk: Walk, node: RunningNode, _: Callable[[str], str]) -> None:
    page = walk.page
    await page.goto(node.url + "/profile")
    await page.get_by_label(_("Filter the list")).fill("back")
    await page.get_by_role("button", name=_("Filter"), exact=True).click()
    baking = page.get_by_label("Backen", exact=True)
    assert await baking.is_visible()
    assert not await page.get_by_label("Radfahren", exact=True).is_visible()
    await baking.check()
    await walk.shot("interests-filtered-without-script")
    await page.get_by_role("button", name=_("Save profile")).click()
    await page.wait_for_url("**/profile?saved=1")
    assert await page.get_by_text("4 von höchstens 20 gewählt").count() == 1
    assert await page.get_by_label("Radfahren", exact=True).is_checked()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_anna_finds_people_herself_and_filters_her_interests(
    tmp_path: Path, browser: Any, viewport: str
) -> None:
    folder = ARTIFACTS / f"people-{viewport}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    de = load_catalogues(TRANSLATIONS_DIR, default="en").get("de").gettext
    async with twin_cities(tmp_path) as cities:
        await more_of_cholet(cities)
        scripted = await browser.new_context(viewport=VIEWPORTS[viewport], locale="de-DE")
        plain = await browser.new_context(
            viewport=VIEWPORTS[viewport], locale="de-DE", java_script_enabled=False
        )
        try:
            anna = Walk(await scripted.new_page(), folder)
            await log_in(anna, cities.oldenburg, de)
            await find_and_ask(anna, de)
            await interests_with_script(anna, cities.oldenburg, de)
            without = Walk(await plain.new_page(), folder)
            await log_in(without, cities.oldenburg, de)
            await interests_without_script(without, cities.oldenburg, de)
        finally:
            await scripted.close()
            await plain.close()
