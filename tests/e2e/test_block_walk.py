"""Blocking and unblocking, walked in a real browser on a desktop window and a 390 px
phone: the resident opens the conversation, follows "Block…" to the page that says
what blocking does, confirms, and later lifts the block in the settings. Every
element is found the way a person using a screen reader finds it: by its label, its
role and its accessible name. Screenshots go to
``test-artifacts/e2e/block-<viewport>/NN-step.png``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from matching.gates import DEFAULT_KIND_GATES
from node.contacts import consent as contacts
from node.runtime.i18n import load_catalogues
from support.browser import ARTIFACTS
from support.contacts import (
    ANNA_NAME,
    BRUNO,
    BRUNO_NAME,
    act,
    the_contact,
    twin_cities,
    until_contact,
)
from support.web import PASSWORD
from web.app import TRANSLATIONS_DIR
from web.pages.contacts import DONE

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


async def ask(*args: Any) -> Any:
    return await contacts.request_contact(*args, kind_gates=DEFAULT_KIND_GATES)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_block_with_confirmation_then_unblock_in_settings(
    tmp_path: Path, browser: Any, viewport: str
) -> None:
    folder = ARTIFACTS / f"block-{viewport}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    _ = load_catalogues(TRANSLATIONS_DIR, default="en").get("fr").gettext

    async with twin_cities(tmp_path) as cities:
        await act(cities.oldenburg, ask, cities.anna, cities.bruno_actor)
        incoming = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "request"
        )
        await act(cities.cholet, contacts.answer_request, cities.bruno, incoming.id, accept=True)
        await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_name == ANNA_NAME, "Anna revealed"
        )
        await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "Bruno revealed"
        )

        context = await browser.new_context(viewport=VIEWPORTS[viewport], locale="fr-FR")
        page = await context.new_page()
        page.set_default_timeout(15_000)
        shots = 0

        async def shot(step: str) -> None:
            nonlocal shots
            shots += 1
            await page.screenshot(path=folder / f"{shots:02d}-{step}.png", full_page=True)

        try:
            await page.goto(cities.cholet.url + "/login")
            await page.get_by_label(_("E-mail address")).fill(BRUNO)
            await page.get_by_label(_("Password")).fill(PASSWORD)
            await page.get_by_role("button", name=_("Log in")).click()
            await page.get_by_role("link", name=_("Contacts")).first.click()
            await page.get_by_role("link", name=ANNA_NAME).click()
            await shot("conversation")

            # Ending the contact stays one click away; blocking is a link, set apart.
            assert await page.get_by_role("button", name=_("End contact")).count() == 1
            assert await page.get_by_role("button", name=_("Block")).count() == 0
            await page.get_by_role("link", name=_("Block…")).click()
            heading = _("Block %(name)s?") % {"name": ANNA_NAME}
            await page.get_by_role("heading", name=heading).wait_for()
            await page.get_by_role("heading", name=_("What blocking does")).wait_for()
            assert await page.get_by_role("link", name=_("Cancel")).count() == 1
            await shot("block-confirmation")
            assert not (await contacts_of_bruno(cities)).blocked_by_me  # nothing yet

            await page.get_by_role("button", name=_("Yes, block")).click()
            status = page.get_by_role("status")
            await status.wait_for()
            assert _(DONE["blocked"]) in await status.inner_text()
            await shot("blocked")
            assert (await contacts_of_bruno(cities)).blocked_by_me
            await until_contact(
                cities.oldenburg, cities.anna, lambda c: c.blocked_by_them, "block at Oldenburg"
            )

            await page.get_by_role("link", name=_("Settings")).first.click()
            await page.get_by_role("heading", name=_("Blocked people")).wait_for()
            unblock = page.get_by_role("button", name=f"{_('Unblock')} {ANNA_NAME}")
            assert await unblock.count() == 1
            await shot("settings-blocked")
            await unblock.click()
            await page.get_by_role("status").filter(has_text=_(DONE["unblocked"])).wait_for()
            assert await page.get_by_text(_("You have not blocked anyone.")).count() == 1
            await shot("unblocked")
            mine = await contacts_of_bruno(cities)
            assert not mine.blocked_by_me and mine.their_name is None
        finally:
            await context.close()


async def contacts_of_bruno(cities: Any) -> Any:
    return await the_contact(cities.cholet, cities.bruno)
