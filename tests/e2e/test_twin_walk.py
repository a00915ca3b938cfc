"""The whole promise of the portal, walked in a real browser on two real nodes.

A new resident registers on the Oldenburg node in German (the confirmation link read
from the node's mail folder), fills in the profile, finds a twin in Cholet with the
explanation why, and asks for contact. The twin, seeded on the Cholet node through
the services, logs in in French, sees the request and accepts. Both then see each
other's names and exchange a message each way. The walk runs on a desktop window
and on a 390 px phone; every step leaves a screenshot in
``test-artifacts/e2e/<viewport>/NN-step.png``.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Awaitable, Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from node.accounts import accounts
from node.models import InboxActivity, OutboxActivity
from node.profiles import profiles
from node.runtime import appkeys
from node.runtime.i18n import Catalogues, load_catalogues
from node.vectors.appkeys import PUBLISHER
from support.browser import ARTIFACTS
from support.nodes import RunningNode, node_pair
from web.app import TRANSLATIONS_DIR

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
PASSWORD = "Deichschaf-Kanal-42"
QUICK = {
    "federation": {
        "worker_poll_seconds": 0.2,
        "retry_base_seconds": 0.5,
        "retry_max_seconds": 2.0,
        "connect_timeout_seconds": 2.0,
        "read_timeout_seconds": 5.0,
        "delivery_lease_seconds": 10.0,
    }
}
SHARED_INTERESTS = (
    "music_making.choir",
    "sport.cycling",
    "exchange.twinning",
    "heritage.local_history",
)
TWIN = accounts.Registration(
    email="camille.rousseau@cholet.example",
    password=PASSWORD,
    display_name="Camille Rousseau",
    kind="person",
    language="fr",
)
TWIN_PROFILE = profiles.ProfileData(
    interests=(*SHARED_INTERESTS, "food.cheese"),
    occupation="23",
    languages={"fr": "native", "de": "B1", "en": "B2"},
    learning=("de",),
    age_band="40-49",
    about="Professeure d'allemand, je chante dans une chorale.",
)


class Walk:
    """One person's browser tab, with numbered screenshots of every step."""

    def __init__(
        self,
        page: Any,
        folder: Path,
        t: Callable[[str], str],
        diagnose: Callable[[], Awaitable[str]],
    ) -> None:
        self.page = page
        self.folder = folder
        self.t = t
        self.diagnose = diagnose
        page.set_default_timeout(15_000)

    async def shot(self, step: str) -> None:
        number = len(list(self.folder.glob("*.png"))) + 1
        await self.page.screenshot(path=self.folder / f"{number:02d}-{step}.png", full_page=True)

    async def until(
        self, url: str, ready: Callable[[], Awaitable[bool]], what: str, within: float = 60.0
    ) -> None:
        """Reload ``url`` until ``ready``: what another node sends arrives in its own time."""
        deadline = time.monotonic() + within
        url = url.split("#")[0]  # a fragment-only change would not load the page again
        while True:
            await self.page.goto(url)
            if await ready():
                return
            if time.monotonic() > deadline:
                await self.shot("timeout-" + re.sub(r"\W+", "-", what))
                raise AssertionError(
                    f"timed out after {within} s waiting for {what} at {url}\n"
                    + await self.diagnose()
                )
            await self.page.wait_for_timeout(500)

    async def visible(self, text: str) -> bool:
        return await self.page.get_by_text(text, exact=False).count() > 0


def mails_to(node: RunningNode, address: str) -> list[EmailMessage]:
    folder = node.config.path(node.config.mail.directory)
    found = []
    for file in sorted(folder.glob("*.eml")) if folder.exists() else []:
        mail = message_from_bytes(file.read_bytes(), policy=policy.default)
        if isinstance(mail, EmailMessage) and address in str(mail["To"]):
            found.append(mail)
    return found


def link_in(mail: EmailMessage, path: str) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    match = re.search(rf"https?://\S+{re.escape(path)}\?token=[\w\-]+", body.get_content())
    assert match, f"no {path} link in the mail"
    return match.group(0)


async def seed_twin(cholet: RunningNode) -> None:
    """The resident the newcomer should find, registered and confirmed via the services."""
    assert cholet.app is not None
    app = cholet.app
    mails = await accounts.register(app[appkeys.DATABASE], app[appkeys.MAILER], TWIN)
    token = link_in(_as_email(mails[0].body), accounts.VERIFY_PATH).rsplit("=", 1)[1]
    async with app[appkeys.DATABASE].write() as session:
        resident = await accounts.verify_email(session, token)
        assert resident is not None
        await profiles.save_profile(session, resident, TWIN_PROFILE, app[PUBLISHER])


def _as_email(body: str) -> EmailMessage:
    mail = EmailMessage()
    mail.set_content(body)
    return mail


async def queues(*nodes: RunningNode) -> str:
    """What each node still has to send, for a failure message: a walk that waits in
    vain almost always waits for a delivery."""
    lines = []
    for node in nodes:
        assert node.app is not None
        async with node.app[appkeys.DATABASE].read() as session:
            rows = await session.execute(
                select(
                    OutboxActivity.activity_type,
                    OutboxActivity.state,
                    OutboxActivity.tries,
                    OutboxActivity.last_status,
                    OutboxActivity.last_error,
                ).order_by(OutboxActivity.id)
            )
            for row in rows:
                lines.append(f"{node.config.node.slug} outbox: {tuple(row)}")
            received = await session.execute(
                select(
                    InboxActivity.activity_type,
                    InboxActivity.state,
                    InboxActivity.tries,
                    InboxActivity.last_error,
                ).order_by(InboxActivity.id)
            )
            for row in received:
                lines.append(f"{node.config.node.slug} inbox: {tuple(row)}")
    return "\n".join(lines)


def catalogues() -> Catalogues:
    return load_catalogues(TRANSLATIONS_DIR, default="en")


async def register_in_german(walk: Walk, oldenburg: RunningNode, email: str) -> None:
    page, _ = walk.page, walk.t
    await page.goto(oldenburg.url + "/")
    await walk.shot("landing")
    await page.get_by_role("link", name=_("Register")).first.click()
    await page.get_by_label(_("E-mail address")).fill(email)
    await page.get_by_label(_("Password")).fill(PASSWORD)
    await page.get_by_label(_("Name shown to your contacts")).fill("Frauke Janßen")
    await page.get_by_label(_("Myself"), exact=True).check()
    await page.locator("#f-age_confirmed").check()
    await walk.shot("register")
    await page.get_by_role("button", name=_("Create account")).click()
    await walk.shot("check-mail")

    mails = mails_to(oldenburg, email)
    assert len(mails) == 1
    await page.goto(link_in(mails[0], accounts.VERIFY_PATH))
    await page.get_by_role("button", name=_("Confirm my address")).click()
    await walk.shot("address-confirmed")

    await page.goto(oldenburg.url + accounts.LOGIN_PATH)
    await page.get_by_label(_("E-mail address")).fill(email)
    await page.get_by_label(_("Password")).fill(PASSWORD)
    await page.get_by_role("button", name=_("Log in")).click()


async def fill_profile(walk: Walk) -> None:
    page, _ = walk.page, walk.t
    await page.wait_for_url("**/profile/wizard**")
    for code in (*SHARED_INTERESTS, "outdoors.birdwatching"):
        await page.locator(f'[id="i-{code}"]').check()
    await walk.shot("profile-interests")
    await page.get_by_role("button", name=_("Next")).click()
    await page.locator("#f-spoken-1-language").select_option("de")
    await page.locator("#f-spoken-1-level").select_option("native")
    await page.locator("#f-spoken-2-language").select_option("en")
    await page.locator("#f-spoken-2-level").select_option("B2")
    await page.locator("#f-learning-1").select_option("fr")
    await walk.shot("profile-languages")
    await page.get_by_role("button", name=_("Next")).click()
    await page.locator("#f-age_band").select_option("40-49")
    await page.locator("#f-occupation").select_option("23")
    await page.locator("#f-about").fill("Lehrerin, singe im Chor und fahre gern Rad.")
    await walk.shot("profile-about")
    await page.get_by_role("button", name=_("Save profile")).click()
    await page.wait_for_url("**/dashboard**")
    await walk.shot("dashboard")


async def find_twin_and_ask(walk: Walk, oldenburg: RunningNode) -> None:
    page, _ = walk.page, walk.t
    await page.get_by_role("link", name=_("My twin")).first.click()
    twin_card = page.locator(".card").first

    async def twin_shown() -> bool:
        return await page.get_by_role("heading", name=_("Your twin")).count() > 0

    await walk.until(oldenburg.url + "/twin", twin_shown, "the twin in Cholet")
    explanation = await twin_card.inner_text()
    assert "sie beide" in explanation.lower()  # the reason, in German (formal)
    assert "Chor" in explanation and "Radfahren" in explanation
    assert "Tandem" in explanation  # Deutsch ⇄ Französisch
    await walk.shot("twin-with-explanation")
    await twin_card.get_by_role("button", name=_("Yes, I'd like contact")).click()
    await walk.shot("contact-requested")


async def accept_in_french(walk: Walk, cholet: RunningNode) -> None:
    page, _ = walk.page, walk.t
    await page.goto(cholet.url + accounts.LOGIN_PATH)
    await page.get_by_label(_("E-mail address")).fill(TWIN.email)
    await page.get_by_label(_("Password")).fill(PASSWORD)
    await walk.shot("twin-login-fr")
    await page.get_by_role("button", name=_("Log in")).click()
    accept = page.get_by_role("button", name=_("Yes, I'd like contact"))

    async def request_arrived() -> bool:
        return await accept.count() > 0

    await walk.until(cholet.url + "/contacts/requests", request_arrived, "the contact request")
    await walk.shot("request-received")
    await accept.first.click()
    await walk.shot("request-accepted")


async def open_conversation(walk: Walk, url: str, name: str) -> None:
    """Wait until the contact list shows the other's name (the reveal has arrived)."""
    page = walk.page
    link = page.get_by_role("link", name=name)

    async def named() -> bool:
        return await link.count() > 0

    await walk.until(url + "/contacts", named, f"the name {name}")
    await walk.shot("contacts-with-name")
    await link.first.click()


async def write(walk: Walk, text: str) -> None:
    page, _ = walk.page, walk.t
    await page.get_by_label(_("Your message")).fill(text)
    await page.get_by_role("button", name=_("Send")).click()
    await walk.shot("message-sent")


async def read(walk: Walk, text: str) -> None:
    url = walk.page.url

    async def arrived() -> bool:
        return await walk.visible(text)

    await walk.until(url, arrived, "a message")
    await walk.shot("message-received")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_a_new_resident_finds_their_twin_and_they_write(
    tmp_path: Path, browser: Any, viewport: str
) -> None:
    folder = ARTIFACTS / viewport
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    texts = catalogues()
    de, fr = texts.get("de").gettext, texts.get("fr").gettext
    async with node_pair(tmp_path, overrides=QUICK) as (oldenburg, cholet):
        await seed_twin(cholet)
        newcomer = await browser.new_context(viewport=VIEWPORTS[viewport], locale="de-DE")
        twin = await browser.new_context(viewport=VIEWPORTS[viewport], locale="fr-FR")
        try:

            async def diagnose() -> str:
                return await queues(oldenburg, cholet)

            frauke = Walk(await newcomer.new_page(), folder, de, diagnose)
            camille = Walk(await twin.new_page(), folder, fr, diagnose)
            await register_in_german(frauke, oldenburg, f"frauke.{viewport}@oldenburg.example")
            await fill_profile(frauke)
            await find_twin_and_ask(frauke, oldenburg)
            await accept_in_french(camille, cholet)

            await open_conversation(camille, cholet.url, "Frauke Janßen")
            await write(camille, "Bonjour Frauke, ravie de faire ta connaissance !")
            await open_conversation(frauke, oldenburg.url, "Camille Rousseau")
            await read(frauke, "ravie de faire ta connaissance")
            await write(frauke, "Hallo Camille, schöne Grüße aus Oldenburg!")
            await read(camille, "schöne Grüße aus Oldenburg")
        finally:
            await newcomer.close()
            await twin.close()
