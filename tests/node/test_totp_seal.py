"""Two-factor secrets sealed at rest, on a real database: the stored form, the seal
bound to its resident, rows from before sealing, and a changed node secret."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from node.accounts import two_factor
from node.accounts.totp_seal import SecretSeal, UnreadableSecret, seal_plain_secrets
from node.models import Resident, TwoFactor, utcnow
from node.runtime import migrate
from node.runtime.config import LimitsSection
from node.runtime.db import Database

SEAL = SecretSeal.from_node_secret(b"a" * 64)
LIMITS = LimitsSection()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database.open(database_url)
    await migrate.upgrade(database.engine)
    try:
        yield database
    finally:
        await database.dispose()


async def _resident(db: Database, name: str) -> int:
    async with db.write() as session:
        resident = Resident(
            email=f"{name}@oldenburg.example",
            password_hash="-",
            display_name=name.title(),
            kind="person",
            role="resident",
            language="de",
            email_verified_at=utcnow(),
        )
        session.add(resident)
        await session.flush()
        return resident.id


async def _enabled(
    db: Database, resident_id: int, seal: SecretSeal = SEAL
) -> tuple[str, list[str]]:
    """Two-factor sign-in switched on as the set-up page does it: the secret, the codes."""
    now = utcnow()
    async with db.write() as session:
        secret = await two_factor.pending_secret(session, seal, resident_id)
        assert secret is not None
        codes = await two_factor.enable(session, seal, resident_id, pyotp.TOTP(secret).at(now), now)
    assert codes is not None
    return secret, codes


async def _stored(db: Database, resident_id: int) -> str:
    async with db.read() as session:
        stored = await session.scalar(
            select(TwoFactor.secret).where(TwoFactor.resident_id == resident_id)
        )
    assert stored is not None
    return stored


async def _check(
    db: Database, resident_id: int, code: str, seal: SecretSeal = SEAL
) -> two_factor.CodeCheck:
    async with db.write() as session:
        return await two_factor.check_code(
            session, seal, resident_id, code, LIMITS, utcnow() + timedelta(seconds=30)
        )


def test_a_sealed_secret_is_versioned_and_opens_only_for_its_resident() -> None:
    secret = pyotp.random_base32()
    sealed = SEAL.seal(secret, 7)
    assert sealed.startswith("v1:") and secret not in sealed and len(sealed) <= 128
    assert SEAL.seal(secret, 7) != sealed  # a fresh nonce each time
    assert SEAL.open(sealed, 7) == secret
    assert SEAL.open(secret, 7) == secret  # the plain form of older rows
    longest = SEAL.seal("A" * 64, 7)
    assert len(longest) <= 128 and SEAL.open(longest, 7) == "A" * 64
    tampered = sealed[:-2] + ("AA" if sealed[-2:] != "AA" else "BB")
    other_node = SecretSeal.from_node_secret(b"b" * 64)
    for stored, resident_id, seal in (
        (sealed, 8, SEAL),
        (tampered, 7, SEAL),
        (sealed, 7, other_node),
        ("v2:" + sealed[3:], 7, SEAL),
        ("v1:not base64!", 7, SEAL),
        ("", 7, SEAL),
    ):
        with pytest.raises(UnreadableSecret, match="two-factor secret of resident"):
            seal.open(stored, resident_id)


async def test_the_database_holds_the_sealed_form_and_the_shown_secret_works(
    db: Database,
) -> None:
    anna = await _resident(db, "anna")
    secret, _ = await _enabled(db, anna)
    stored = await _stored(db, anna)
    assert stored.startswith("v1:") and secret not in stored
    code = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
    assert (await _check(db, anna, code)).status == "ok"


async def test_a_seal_copied_to_another_residents_row_does_not_open(db: Database) -> None:
    anna, bert = await _resident(db, "anna"), await _resident(db, "bert")
    anna_secret, _ = await _enabled(db, anna)
    _, bert_codes = await _enabled(db, bert)
    async with db.write() as session:
        await session.execute(
            update(TwoFactor)
            .where(TwoFactor.resident_id == bert)
            .values(secret=await _stored(db, anna))
        )
    code = pyotp.TOTP(anna_secret).at(utcnow() + timedelta(seconds=30))
    checked = await _check(db, bert, code)
    assert checked.status == "wrong" and checked.unreadable
    # The recovery codes do not depend on the secret: bert can still sign in.
    rescued = await _check(db, bert, bert_codes[0])
    assert rescued.status == "ok" and rescued.recovery_used


async def test_a_plain_secret_from_before_sealing_is_accepted_and_sealed(db: Database) -> None:
    anna, bert = await _resident(db, "anna"), await _resident(db, "bert")
    plain, pending = pyotp.random_base32(), pyotp.random_base32()
    async with db.write() as session:
        session.add(TwoFactor(resident_id=anna, secret=plain, failures=0, enabled_at=utcnow()))
        session.add(TwoFactor(resident_id=bert, secret=pending, failures=0))
    code = pyotp.TOTP(plain).at(utcnow() + timedelta(seconds=30))
    assert (await _check(db, anna, code)).status == "ok"  # read before it is sealed

    async with db.write() as session:
        assert await seal_plain_secrets(session, SEAL) == 2
    async with db.write() as session:
        assert await seal_plain_secrets(session, SEAL) == 0  # nothing left: idempotent
    for resident_id, secret in ((anna, plain), (bert, pending)):
        stored = await _stored(db, resident_id)
        assert stored.startswith("v1:") and secret not in stored
        assert SEAL.open(stored, resident_id) == secret
    later = pyotp.TOTP(plain).at(utcnow() + timedelta(seconds=60))
    assert (await _check(db, anna, later)).status == "ok"
    async with db.write() as session:  # the pending set-up keeps what the app scanned
        assert await two_factor.pending_secret(session, SEAL, bert) == pending


async def test_after_a_node_secret_change_only_recovery_codes_or_a_reset_help(
    db: Database,
) -> None:
    anna, bert, carla = [await _resident(db, name) for name in ("anna", "bert", "carla")]
    secret, codes = await _enabled(db, anna)
    await _enabled(db, carla)
    async with db.write() as session:
        pending = await two_factor.pending_secret(session, SEAL, bert)
    changed = SecretSeal.from_node_secret(b"a new node secret")

    code = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
    checked = await _check(db, anna, code, changed)
    assert checked.status == "wrong" and checked.unreadable
    assert (await _check(db, anna, codes[0], changed)).status == "ok"
    async with db.write() as session:
        # Switched off (with a recovery code on the page), then set up anew.
        await two_factor.disable(session, anna)
        fresh = await two_factor.pending_secret(session, changed, anna)
        # A set-up in progress starts over with a new secret instead of failing.
        restarted = await two_factor.pending_secret(session, changed, bert)
    assert fresh is not None and fresh != secret
    assert restarted is not None and restarted != pending
    assert changed.open(await _stored(db, bert), bert) == restarted
    async with db.write() as session:  # city IT's way for someone without codes
        assert await two_factor.reset(session, "carla@oldenburg.example") is not None
        assert not await two_factor.is_enabled(session, carla)


async def test_the_migration_keeps_plain_rows_and_refuses_to_go_back_over_sealed_ones(
    database_url: str,
) -> None:
    db = Database.open(database_url)
    try:
        await migrate.upgrade(db.engine, "0009")
        anna = await _resident(db, "anna")
        widest = "A" * 64  # the longest the old column held
        async with db.write() as session:
            session.add(TwoFactor(resident_id=anna, secret=widest, failures=0))
        await migrate.upgrade(db.engine)
        assert await _stored(db, anna) == widest
        async with db.write() as session:
            assert await seal_plain_secrets(session, SEAL) == 1
        assert SEAL.open(await _stored(db, anna), anna) == widest
        with pytest.raises(RuntimeError, match="reset-two-factor"):
            await migrate.downgrade(db.engine, "0009")
        assert await migrate.current_revision(db.engine) == migrate.head_revision()
        async with db.write() as session:
            await two_factor.disable(session, anna)
        await migrate.downgrade(db.engine, "0009")
        assert await migrate.current_revision(db.engine) == "0009"
        await migrate.upgrade(db.engine)
    finally:
        await db.dispose()
