"""Two-factor sign-in the way a resident does it: the set-up page read like a phone
reads it, codes from pyotp, and the login's second step."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyotp

from tests.lib.support.web import PASSWORD, Visitor

SETUP_PATH = "/settings/security/two-factor"
KEY = re.compile(r'id="two-factor-key">([A-Z2-7 ]+)</code>')
RECOVERY_CODE = re.compile(r"<li><code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code></li>")


@dataclass
class Authenticator:
    """The app on a resident's phone: the secret, and the recovery codes on paper.

    The node refuses a code of a time step it has already accepted, so each code
    given out here belongs to a later step than the one before (the node accepts
    the step after the current one, which allows two sign-ins per step; a third
    waits for the clock)."""

    secret: str
    recovery_codes: list[str] = field(default_factory=list)
    last_step: int = -1

    async def code(self) -> str:
        totp = pyotp.TOTP(self.secret)
        while True:
            current = totp.timecode(datetime.now(UTC))
            step = max(current, self.last_step + 1)
            if step <= current + 1:
                self.last_step = step
                return totp.generate_otp(step)
            await asyncio.sleep(0.5)


def key_on(html: str) -> str:
    match = KEY.search(html)
    assert match, "the set-up page shows no key"
    return match.group(1).replace(" ", "")


async def set_up_two_factor(visitor: Visitor, password: str = PASSWORD) -> Authenticator:
    """Switch two-factor sign-in on for the logged-in visitor, as on the set-up page."""
    page = await visitor.get(SETUP_PATH)
    assert page.status_code == 200, page.status_code
    device = Authenticator(key_on(page.text))
    enabled = await visitor.submit(
        f"{SETUP_PATH}/enable", {"password": password, "code": await device.code()}, page=SETUP_PATH
    )
    assert enabled.status_code == 200, enabled.text
    device.recovery_codes = RECOVERY_CODE.findall(enabled.text)
    assert len(device.recovery_codes) == 10
    return device


async def login_with_code(
    visitor: Visitor, email: str, device: Authenticator, password: str = PASSWORD
) -> None:
    """Log in with the password, then the code from the app."""
    first = await visitor.login(email, password)
    assert first.status_code == 303 and first.headers["Location"] == "/login/code", first.text
    second = await visitor.submit("/login/code", {"code": await device.code()})
    assert second.status_code == 303, second.text


async def admin_login(visitor: Visitor, email: str) -> Authenticator:
    """An admin's first login: the password, then two-factor sign-in set up, which the
    admin pages require."""
    assert (await visitor.login(email)).status_code == 303
    return await set_up_two_factor(visitor)
