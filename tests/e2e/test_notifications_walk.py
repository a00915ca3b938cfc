"""A request never goes unnoticed, seen in a real browser: Anna in Oldenburg asks
Bruno in Cholet for contact; Bruno logs in (in French) and finds the count next to
"Contacts" in the menu, named for screen readers, and the notice on his start page;
the mail about it is in Cholet's mail folder. Opening the requests page clears the
count. Desktop window and 390 px phone; screenshots in
``test-artifacts/e2e/notifications-<viewport>/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from node.contacts import consent as contacts
from node.contacts._notifications import NEW_REQUEST
from node.matches.state import match_settings
from node.runtime import appkeys
from node.runtime.i18n import load_catalogues
from support.browser import ARTIFACTS
from support.contacts import BRUNO, act, twin_cities, until_contact
from support.federation import wait_for
from support.web import PASSWORD, mails_to
from web.app import TRANSLATIONS_DIR

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_a_request_shows_in_the_menu_on_the_dashboard_and_by_mail(
    tmp_path: Path, browser: Any, viewport: str
) -> None:
    folder = ARTIFACTS / f"notifications-{viewport}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    fr = load_catalogues(TRANSLATIONS_DIR, default="en").get("fr")
    _ = fr.gettext

    async def shot(page: Any, step: str) -> None:
        number = len(list(folder.glob("*.png"))) + 1
        await page.screenshot(path=folder / f"{number:02d}-{step}.png", full_page=True)

    async with twin_cities(tmp_path) as cities:
        gates = match_settings(cities.oldenburg.config).kind_gates
        await act(
            cities.oldenburg,
            contacts.request_contact,
            cities.anna,
            cities.bruno_actor,
            kind_gates=gates,
        )
        await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "the request"
        )
        portal = cities.cholet.config.branding.portal_name
        asked = fr.gettext(NEW_REQUEST.subject) % {"portal": portal}

        async def mailed() -> bool:
            return any(str(m["Subject"]) == asked for m in mails_to(cities.cholet, BRUNO))

        await wait_for(mailed, what="the mail about the request")
        assert cities.cholet.app is not None
        assert cities.cholet.app[appkeys.MAILER].config.mail.backend == "file"

        context = await browser.new_context(viewport=VIEWPORTS[viewport], locale="fr-FR")
        try:
            page = await context.new_page()
            page.set_default_timeout(15_000)
            await page.goto(cities.cholet.url + "/login")
            await page.get_by_label(_("E-mail address")).fill(BRUNO)
            await page.get_by_label(_("Password")).fill(PASSWORD)
            await page.get_by_role("button", name=_("Log in")).click()
            await page.wait_for_url("**/dashboard**")

            counted = fr.ngettext("Contacts, %(count)s new", "Contacts, %(count)s new", 1) % {
                "count": 1
            }
            menu = page.get_by_role("navigation", name=_("Main menu"))
            await menu.get_by_role("link", name=counted, exact=True).wait_for()
            notices = page.get_by_role("region", name=_("New for you"))
            request_line = fr.ngettext(
                "A new contact request from the partner city: see it and answer",
                "%(count)s new contact requests from the partner city: see them and answer",
                1,
            ) % {"count": 1}
            link = notices.get_by_role("link", name=request_line)
            assert await link.count() == 1
            await shot(page, "dashboard-with-notice")

            await link.click()
            await page.wait_for_url("**/contacts/requests**")
            assert await page.get_by_role("button", name=_("Yes, I'd like contact")).count() == 1
            await shot(page, "requests-seen")
            assert await menu.get_by_role("link", name=counted, exact=True).count() == 0
            assert await menu.get_by_role("link", name=_("Contacts"), exact=True).count() == 1
            await page.get_by_role("link", name=_("My twin")).first.click()
            await page.wait_for_url("**/dashboard**")
            assert await page.get_by_role("region", name=_("New for you")).count() == 0
            await shot(page, "dashboard-cleared")
        finally:
            await context.close()
