"""retention: when a stored activity's body was dropped

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 16:00:00.000000

``inbox.purged_at`` and ``outbox.purged_at`` record when the body (``payload``) of an
activity was dropped, by the retention purge or by the erasure of a deleted account;
the indexes let the purge find the rows that still have one without reading bodies.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import node.models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("inbox", "outbox"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("purged_at", node.models.base.UTCDateTime(timezone=True), nullable=True)
            )
            batch_op.create_index(f"ix_{table}_unpurged", ["purged_at", "state"], unique=False)


def downgrade() -> None:
    for table in ("outbox", "inbox"):
        # In place on SQLite, not by copying the table (see node/migrations/env.py).
        with op.batch_alter_table(table, schema=None, recreate="never") as batch_op:
            batch_op.drop_index(f"ix_{table}_unpurged")
            batch_op.drop_column("purged_at")
