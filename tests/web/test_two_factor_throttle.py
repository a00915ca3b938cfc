"""Guessing is slowed down, never locked: wrong codes in the login's second step and
wrong current passwords on the security page count on the login throttle, and a
correct password does not wipe the count of wrong codes."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from node.models import TwoFactor, utcnow
from node.runtime import appkeys
from support.contacts import add_account
from support.nodes import RunningNode
from support.two_factor import set_up_two_factor
from support.web import PASSWORD, Visitor

ANNA = "anna@oldenburg.example"


@pytest.fixture
def node_overrides() -> dict[str, dict[str, object]]:
    return {"limits": {"login_free_attempts": 2, "login_first_delay_seconds": 600}}


async def test_wrong_codes_bring_a_growing_delay_that_a_password_does_not_clear(
    node: RunningNode,
) -> None:
    await add_account(node, ANNA)
    async with Visitor(node) as anna:
        assert (await anna.login(ANNA)).status_code == 303
        phone = await set_up_two_factor(anna)
    async with Visitor(node) as guesser:
        assert (await guesser.login(ANNA)).headers["Location"] == "/login/code"
        for _ in range(2):
            assert (await guesser.submit("/login/code", {"code": "000000"})).status_code == 400
        early = await guesser.submit("/login/code", {"code": await phone.code()})
        assert early.status_code == 429 and int(early.headers["Retry-After"]) > 500
        assert "Zu viele Versuche" in early.text and guesser.session_cookie() is None
        # The password again (which clears the password counter) does not help.
        assert (await guesser.login(ANNA)).headers["Location"] == "/login/code"
        assert (await guesser.submit("/login/code", {"code": "000000"})).status_code == 429
    # Once the delay has passed, the right code logs in: nothing is locked.
    assert node.app is not None
    async with node.app[appkeys.DATABASE].write() as session:
        await session.execute(update(TwoFactor).values(wait_until=utcnow()))
    async with Visitor(node) as anna:
        assert (await anna.login(ANNA)).headers["Location"] == "/login/code"
        assert (await anna.submit("/login/code", {"code": await phone.code()})).status_code == 303


async def test_wrong_current_passwords_are_slowed_down(node: RunningNode) -> None:
    await add_account(node, ANNA)
    async with Visitor(node) as anna:
        assert (await anna.login(ANNA)).status_code == 303
        fields = {"new_password": "copper kettle meadow ninety"}
        fields["confirm_password"] = fields["new_password"]
        for _ in range(2):
            wrong = await anna.submit(
                "/settings/security/password",
                {**fields, "current_password": "guess"},
                page="/settings/security",
            )
            assert wrong.status_code == 400
        early = await anna.submit(
            "/settings/security/password",
            {**fields, "current_password": PASSWORD},
            page="/settings/security",
        )
        assert early.status_code == 429 and "Retry-After" in early.headers
    async with Visitor(node) as other:
        assert (await other.login(ANNA)).status_code == 429  # the same counter as the login
