"""Sealed two-factor secrets over real HTTP: a seal moved to another account, rows
from before sealing sealed when the node starts, and a changed node secret."""

from __future__ import annotations

from dataclasses import replace

import pyotp
from sqlalchemy import select, update

from node.accounts.appkeys import TWO_FACTOR_SEAL
from node.models import TwoFactor, utcnow
from node.runtime import appkeys
from support.contacts import add_account
from support.nodes import RunningNode
from support.two_factor import SETUP_PATH, Authenticator, set_up_two_factor
from support.web import PASSWORD, Visitor

ANNA = "anna@oldenburg.example"
BERT = "bert@oldenburg.example"
UNREADABLE = "nicht mehr geprüft"


async def _secret_of(node: RunningNode, resident_id: int) -> str:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        stored = await session.scalar(
            select(TwoFactor.secret).where(TwoFactor.resident_id == resident_id)
        )
    assert stored is not None
    return stored


async def _enabled(node: RunningNode, email: str) -> Authenticator:
    async with Visitor(node) as resident:
        assert (await resident.login(email)).status_code == 303
        return await set_up_two_factor(resident)


async def test_a_seal_moved_to_another_account_is_refused_with_a_reason(
    node: RunningNode,
) -> None:
    anna = await add_account(node, ANNA)
    bert = await add_account(node, BERT)
    anna_phone = await _enabled(node, ANNA)
    bert_phone = await _enabled(node, BERT)
    sealed = await _secret_of(node, anna)
    assert node.app is not None
    async with node.app[appkeys.DATABASE].write() as session:
        await session.execute(
            update(TwoFactor).where(TwoFactor.resident_id == bert).values(secret=sealed)
        )
    async with Visitor(node) as thief:
        assert (await thief.login(BERT)).headers["Location"] == "/login/code"
        for phone in (anna_phone, bert_phone):
            refused = await thief.submit("/login/code", {"code": await phone.code()})
            assert refused.status_code == 400 and UNREADABLE in refused.text
        assert thief.session_cookie() is None
        # Bert's recovery codes do not depend on the secret: he can still sign in.
        rescued = await thief.submit("/login/code", {"code": bert_phone.recovery_codes[0]})
        assert rescued.status_code == 303


async def test_a_secret_stored_before_sealing_is_sealed_when_the_node_starts(
    node: RunningNode,
) -> None:
    anna = await add_account(node, ANNA)
    plain = pyotp.random_base32()
    assert node.app is not None
    async with node.app[appkeys.DATABASE].write() as session:
        session.add(TwoFactor(resident_id=anna, secret=plain, failures=0, enabled_at=utcnow()))
    await node.stop()
    await node.start(run_workers=False)
    stored = await _secret_of(node, anna)
    assert stored.startswith("v1:") and plain not in stored
    async with Visitor(node) as visitor:
        assert (await visitor.login(ANNA)).headers["Location"] == "/login/code"
        signed_in = await visitor.submit("/login/code", {"code": await Authenticator(plain).code()})
        assert signed_in.status_code == 303 and visitor.session_cookie()


async def test_a_new_node_secret_means_setting_two_factor_up_again(node: RunningNode) -> None:
    anna = await add_account(node, ANNA)
    phone = await _enabled(node, ANNA)
    await node.stop()
    node.keys = replace(node.keys, secret=b"a node secret someone replaced")
    await node.start(run_workers=False)
    async with Visitor(node) as visitor:
        assert (await visitor.login(ANNA)).headers["Location"] == "/login/code"
        refused = await visitor.submit("/login/code", {"code": await phone.code()})
        assert refused.status_code == 400 and UNREADABLE in refused.text
        # A recovery code still signs in; switched off with another, then set up anew.
        assert (
            await visitor.submit("/login/code", {"code": phone.recovery_codes[0]})
        ).status_code == 303
        off = await visitor.submit(
            f"{SETUP_PATH}/disable",
            {"password": PASSWORD, "code": phone.recovery_codes[1]},
            page=SETUP_PATH,
        )
        assert off.status_code == 303
        again = await set_up_two_factor(visitor)
    assert again.secret != phone.secret
    assert node.app is not None
    assert node.app[TWO_FACTOR_SEAL].open(await _secret_of(node, anna), anna) == again.secret
