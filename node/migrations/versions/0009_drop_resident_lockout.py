"""residents: drop failed_logins and locked_until, unused since login_throttles

Login throttling counts failures per address in ``login_throttles`` (an address
without an account is throttled too), so the two columns on ``residents`` were
never read or written any more.

On SQLite the columns are dropped in place (``ALTER TABLE … DROP COLUMN``, which the
node's use of ``RETURNING`` requires anyway), not by copying the table: dropping the
old copy would drop the triggers of migration 0008 with it, and with foreign keys on,
delete the rows of every table that cascades from ``residents``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 02:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import node.models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("residents", recreate="never") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("residents", recreate="never") as batch:
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("locked_until", node.models.base.UTCDateTime(timezone=True), nullable=True)
        )
