"""Writing the demo residents into a node's database through the node's services.

Profiles go through :func:`node.profiles.profiles.save_profile`, so every demo
profile passes the same rules as one typed into the wizard. Accounts are created
already confirmed, with one shared password hash: the demo residents all share
the published demo password, and hashing it a few hundred times with Argon2 would
make the first start of the demo take half a minute for nothing.

Seeding happens before the node runs, so profiles are saved without a publisher:
the node's reconciliation at start-up publishes the whole population in one go,
which is the path a node restored from a backup takes too.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from node.accounts import passwords
from node.accounts.accounts import normalise_email
from node.demo.population import DEMO_PASSWORD, DemoResident
from node.models import Resident, utcnow
from node.profiles import profiles
from node.runtime.db import Database, UnitOfWork


async def resident_count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Resident)) or 0)


async def enrol(session: UnitOfWork, resident: DemoResident, password_hash: str) -> Resident:
    """One confirmed account with its profile, in the caller's transaction."""
    row = Resident(
        email=normalise_email(resident.email),
        password_hash=password_hash,
        display_name=resident.display_name,
        kind=resident.kind,
        language=resident.language,
        email_verified_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    await profiles.save_profile(session, row, resident.profile, publisher=None)
    return row


async def seed(
    db: Database,
    residents: Sequence[DemoResident],
    password: str = DEMO_PASSWORD,
) -> int:
    """Create the residents unless the node has residents already; how many were created."""
    if await resident_count(db):
        return 0
    password_hash = await passwords.hash_password(password)
    async with db.write() as session:
        for resident in residents:
            await enrol(session, resident, password_hash)
    return len(residents)
