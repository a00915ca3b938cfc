"""vector sequences: pause, reset and deletion told apart on the wire

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:00:00.000000

Pseudonyms get ``retired_at`` (the actor is gone, not only its profile) and
``sequence`` (the last number sent under it); peers' vectors and tombstones get the
sequence they were applied at, tombstones also whether the whole actor was deleted.

Pseudonyms withdrawn before this revision were withdrawn with a ``Delete`` of the actor
(the peer ended their contacts then), so they count as retired.

On SQLite every change is made in place (``ALTER TABLE … ADD/DROP COLUMN``), not by
copying the table: copying ``remote_profiles`` would drop the matching results that
cascade from it (see node/migrations/env.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import node.models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pseudonyms", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("retired_at", node.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("sequence", sa.BigInteger(), nullable=True))
    op.execute("UPDATE pseudonyms SET retired_at = withdrawn_at WHERE withdrawn_at IS NOT NULL")
    with op.batch_alter_table("remote_profiles", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("sequence", sa.BigInteger(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("tombstones", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("sequence", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("actor_deleted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("tombstones", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("actor_deleted")
        batch_op.drop_column("sequence")
    with op.batch_alter_table("remote_profiles", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("sequence")
    with op.batch_alter_table("pseudonyms", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("sequence")
        batch_op.drop_column("retired_at")
