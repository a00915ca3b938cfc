"""account_security: two-factor sign-in, recovery codes, login challenges, session labels

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import node.models.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "two_factor",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("enabled_at", node.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", node.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("wait_until", node.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", node.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_two_factor_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resident_id", name=op.f("pk_two_factor")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", node.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_recovery_codes_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index(
        "ix_recovery_codes_resident_id", "recovery_codes", ["resident_id"], unique=False
    )
    op.create_table(
        "login_challenges",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("next_path", sa.String(length=500), nullable=False),
        sa.Column("created_at", node.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", node.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_login_challenges_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_challenges")),
    )
    op.create_index(
        "ix_login_challenges_resident_id", "login_challenges", ["resident_id"], unique=False
    )
    op.create_index(
        "ix_login_challenges_expires_at", "login_challenges", ["expires_at"], unique=False
    )
    op.add_column("login_sessions", sa.Column("device", sa.String(length=64), nullable=True))
    op.add_column(
        "login_sessions",
        sa.Column("second_factor_at", node.models.base.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    # In place on SQLite, not by copying the table (see node/migrations/env.py).
    with op.batch_alter_table("login_sessions", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("second_factor_at")
        batch_op.drop_column("device")
    op.drop_index("ix_login_challenges_expires_at", table_name="login_challenges")
    op.drop_index("ix_login_challenges_resident_id", table_name="login_challenges")
    op.drop_table("login_challenges")
    op.drop_index("ix_recovery_codes_resident_id", table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("two_factor")
