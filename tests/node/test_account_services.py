"""The resident services on a real database: accounts, one-time links, sessions,
the login throttle and profiles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.accounts import _login_throttle as login_throttle
from node.accounts import accounts, tokens
from node.accounts import export as data_export
from node.accounts import sessions as session_service
from node.models import LoginSession, Profile, Resident, utcnow
from node.profiles import profiles
from node.profiles.profiles import InvalidProfile, ProfileData
from node.runtime import migrate
from node.runtime.config import Config, config_from_mapping
from node.runtime.db import Database
from node.runtime.i18n import load_catalogues
from node.runtime.mail import Mailer
from support.nodes import node_document

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "lantern orchard seventeen"
PROFILE = ProfileData(interests=("sport.cycling",), languages={"de": "native"}, age_band="40-49")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database.open(database_url)
    await migrate.upgrade(database.engine)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return config_from_mapping(
        node_document("oldenburg", 8401, database_url), data_dir=tmp_path, environ={}
    )


@pytest.fixture
def mailer(config: Config) -> Mailer:
    catalogues = load_catalogues(ROOT / "web" / "translations", default="de")
    return Mailer(config, catalogues)


async def _resident(
    db: Database,
    mailer: Mailer,
    email: str = "anna@example.org",
    kind: str = "person",
    language: str = "de",
) -> Resident:
    await accounts.register(
        db, mailer, accounts.Registration(email, PASSWORD, "Anna", kind, language)
    )
    async with db.write() as session:
        resident = await accounts.find_by_email(session, email)
        assert resident is not None
        resident.email_verified_at = utcnow()
        return resident


async def test_registration_mails_in_the_registrants_language(db: Database, mailer: Mailer) -> None:
    mails = await accounts.register(
        db, mailer, accounts.Registration("Anne@Example.FR", PASSWORD, "Anne", "person", "fr")
    )
    assert [mail.to for mail in mails] == ["anne@example.fr"]
    assert "confirmer votre adresse" in mails[0].subject
    assert "http://127.0.0.1:8401/verify?token=" in mails[0].body
    again = await accounts.register(
        db, mailer, accounts.Registration("anne@example.fr", "other words here", "X", "club", "de")
    )
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Resident)) == 1
    assert "déjà un compte" in again[0].subject  # her language, not the second visitor's


async def test_one_time_links(db: Database, mailer: Mailer) -> None:
    resident = await _resident(db, mailer)
    now = utcnow()
    async with db.write() as session:
        first = await tokens.issue_token(session, resident, tokens.PASSWORD_RESET, now=now)
        second = await tokens.issue_token(session, resident, tokens.PASSWORD_RESET, now=now)
    async with db.write() as session:
        # A newer link voids the older one; a link of another purpose does not work.
        assert await tokens.consume_token(session, first, tokens.PASSWORD_RESET) is None
        assert await tokens.consume_token(session, second, tokens.VERIFY_EMAIL) is None
        late = now + tokens.LIFETIMES[tokens.PASSWORD_RESET] + timedelta(seconds=1)
        assert await tokens.peek_token(session, second, tokens.PASSWORD_RESET, now=late) is None
        used = await tokens.consume_token(session, second, tokens.PASSWORD_RESET, now=now)
        assert used is not None and used.id == resident.id
        assert await tokens.consume_token(session, second, tokens.PASSWORD_RESET) is None
        assert await tokens.consume_token(session, "", tokens.PASSWORD_RESET) is None
        assert await tokens.consume_token(session, "x" * 5000, tokens.PASSWORD_RESET) is None


async def test_authenticate_and_throttle(db: Database, mailer: Mailer) -> None:
    await _resident(db, mailer)
    assert (await accounts.authenticate(db, mailer, "ANNA@example.org ", PASSWORD)).status == "ok"
    policy = login_throttle.address_policy(mailer.config.limits)
    now = utcnow()
    counters = [("anna@example.org", policy)]
    waits = []
    async with db.write() as session:
        for _ in range(policy.free_attempts + 2):
            assert await login_throttle.claim_attempts(session, counters, now) is None
            row = await login_throttle.row_for_update(session, "anna@example.org")
            assert row.locked_until is None or row.locked_until > now
            waits.append(row.locked_until - now if row.locked_until else None)
            if row.locked_until is not None:
                # Too early changes nothing; then the delay has passed.
                assert await login_throttle.claim_attempts(session, counters, now) is not None
                now = row.locked_until
    first = policy.first_delay
    assert waits == [None] * (policy.free_attempts - 1) + [first, first * 2, first * 4]
    result = await accounts.authenticate(db, mailer, "anna@example.org", PASSWORD)
    assert result.status == "wait" and result.locked_until is not None
    # The right password after the delay logs in.
    later = now + first * 8
    result = await accounts.authenticate(
        db, mailer, "anna@example.org", PASSWORD, clock=lambda: later
    )
    assert result.status == "ok"
    # Long delays are capped.
    assert policy.delay(100) == policy.longest_delay


async def test_unverified_login_sends_a_new_link(db: Database, mailer: Mailer) -> None:
    await accounts.register(
        db, mailer, accounts.Registration("b@example.org", PASSWORD, "B", "club", "en")
    )
    result = await accounts.authenticate(db, mailer, "b@example.org", PASSWORD)
    wrong = await accounts.authenticate(db, mailer, "b@example.org", PASSWORD + "x")
    assert result.status == "unverified" and "confirm your e-mail" in result.mails[0].subject
    assert wrong.status == "failed" and not wrong.mails


async def test_session_timeouts_and_rotation(db: Database, mailer: Mailer, config: Config) -> None:
    resident = await _resident(db, mailer)
    settings = config.sessions
    start = utcnow()
    async with db.write() as session:
        first = await session_service.open_session(
            session, resident_id=resident.id, language="fr", now=start
        )
    async with db.write() as session:
        row = await session_service.find_session(session, first.token, settings)
        assert row is not None
        rotated = await session_service.rotate_session(session, row, resident.id)
    assert rotated.token != first.token and rotated.row.csrf_token != first.row.csrf_token
    assert rotated.row.language == "fr" and len(rotated.token) >= 43  # 256 bits
    assert rotated.row.id == session_service.hash_token(rotated.token)
    async with db.write() as session:
        assert await session_service.find_session(session, first.token, settings) is None
        idle = utcnow() + timedelta(minutes=settings.idle_timeout_minutes, seconds=1)
        assert (
            await session_service.find_session(session, rotated.token, settings, now=idle) is None
        )
    async with db.write() as session:
        assert await session.get(LoginSession, rotated.row.id) is None  # deleted, not kept
        fresh = await session_service.open_session(session, resident_id=resident.id, now=start)
        for minute in range(
            0, settings.absolute_timeout_hours * 60, settings.idle_timeout_minutes - 1
        ):
            now = start + timedelta(minutes=minute)
            assert await session_service.find_session(session, fresh.token, settings, now=now)
        end = start + timedelta(hours=settings.absolute_timeout_hours)
        assert await session_service.find_session(session, fresh.token, settings, now=end) is None
    async with db.write() as session:
        await session_service.open_session(
            session, resident_id=resident.id, now=start - timedelta(days=30)
        )
        assert await session_service.purge_expired_sessions(session, settings) == 1


async def test_profiles_are_checked_and_announced(
    db: Database, mailer: Mailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    announced: list[int] = []

    publisher = object()

    async def record(session: AsyncSession, given: object, *, changed: list[int]) -> None:
        assert given is publisher
        announced.extend(changed)

    monkeypatch.setattr(profiles, "publish_changes", record)
    person = await _resident(db, mailer)
    family = await _resident(db, mailer, "family@example.org", kind="family")
    async with db.write() as session:
        person = await session.get(Resident, person.id)
        assert person is not None
        with pytest.raises(InvalidProfile) as problem:
            await profiles.save_profile(session, person, ProfileData(), publisher)
        assert problem.value.problems == {
            "interests": "required",
            "languages": "required",
            "age_band": "required",
        }
        saved = await profiles.save_profile(session, person, PROFILE, publisher)
        assert saved.completed and announced == [person.id]
        await profiles.set_paused(session, person, False, publisher)  # unchanged: nothing announced
        assert announced == [person.id]
        await profiles.set_paused(session, person, True, publisher)
        assert announced == [person.id, person.id]
    async with db.write() as session:
        family = await session.get(Resident, family.id)
        assert family is not None
        data = ProfileData(
            interests=("sport.cycling",), languages={"fr": "B2"}, children_age_bands=("6-11",)
        )
        assert profiles.profile_problems("family", data) == {}
        assert profiles.profile_problems("person", data) == {
            "age_band": "required",
            "children_age_bands": "unknown",
        }
        await profiles.set_paused(
            session, family, True, publisher
        )  # no profile yet: an incomplete one
        stored = await session.get(Profile, family.id)
        assert stored is not None and stored.paused and not stored.completed


async def test_delete_and_export(
    db: Database, mailer: Mailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    withdrawn: list[int] = []

    async def record(session: AsyncSession, _publisher: object, *, leaving: int) -> None:
        withdrawn.append(leaving)

    monkeypatch.setattr(accounts, "publish_changes", record)
    anna = await _resident(db, mailer)
    await _resident(db, mailer, "bert@example.org")
    async with db.write() as session:
        anna = await session.get(Resident, anna.id)
        assert anna is not None
        await profiles.save_profile(session, anna, PROFILE, publisher=None)
        document = await data_export.export_data(session, anna, mailer.config, secret=bytes(32))
        assert document["account"]["email"] == "anna@example.org"
        assert "bert" not in str(document) and "$argon2" not in str(document)
    assert not await accounts.password_matches(anna, "wrong")
    assert await accounts.password_matches(anna, PASSWORD)
    async with db.write() as session:
        anna = await session.get(Resident, anna.id)
        assert anna is not None
        await accounts.delete_account(session, anna, object())  # type: ignore[arg-type]
    assert withdrawn == [anna.id]
    async with db.write() as session:
        assert list(await session.scalars(select(Resident.email))) == ["bert@example.org"]
        assert await session.scalar(select(func.count()).select_from(Profile)) == 0
