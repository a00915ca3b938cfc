"""two_factor: room for sealed secrets

A TOTP secret is now stored sealed (node/accounts/totp_seal.py): ``v1:`` and the
base64 of nonce, ciphertext and tag, 83 characters for a secret of 32 and at most 127
for the longest plain secret the old column held. The migration only widens the
column: sealing needs the node secret, which the database does not have, so the rows
written before are sealed when the node starts.

On SQLite the table is copied (the only way to change a column's type there);
nothing refers to ``two_factor``, so dropping the old copy takes nothing with it.

Downgrading refuses while sealed secrets exist: the older code could not read them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("two_factor") as batch:
        batch.alter_column(
            "secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=128),
            existing_nullable=False,
        )


def downgrade() -> None:
    sealed = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM two_factor WHERE secret LIKE 'v1:%'")
    )
    if sealed:
        raise RuntimeError(
            f"{sealed} two-factor secrets are sealed and the older code cannot read them;"
            " switch two-factor sign-in off for those residents first"
            " (zwilling admin reset-two-factor EMAIL)"
        )
    with op.batch_alter_table("two_factor") as batch:
        batch.alter_column(
            "secret",
            existing_type=sa.String(length=128),
            type_=sa.String(length=64),
            existing_nullable=False,
        )
