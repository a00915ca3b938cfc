"""residents: the adult's declaration for families, clubs and school classes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 16:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import node.models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Accounts registered before the declaration existed keep NULL: the form asked
    # the same question then, but did not record when it was answered.
    with op.batch_alter_table("residents", recreate="never") as batch:
        batch.add_column(
            sa.Column(
                "adult_declared_at", node.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    # In place on SQLite, not by copying the table (see node/migrations/env.py).
    with op.batch_alter_table("residents", recreate="never") as batch:
        batch.drop_column("adult_declared_at")
