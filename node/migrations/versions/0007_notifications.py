"""notifications: notices on the portal, the hourly mail limit, three mail switches

On SQLite the two switches are added to ``residents`` in place (``ALTER TABLE … ADD
COLUMN``), not by copying the table, which a default given as an expression would make
Alembic do: dropping the old copy would, with foreign keys on, delete the rows of every
table that cascades from ``residents`` (sessions, contacts, profiles…). ``sa.true()`` is
the constant ``1`` there, which ``ADD COLUMN`` accepts, and ``true`` on PostgreSQL.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import node.models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing accounts get every mail, as they got message mails before.
    with op.batch_alter_table("residents", recreate="never") as batch:
        batch.add_column(
            sa.Column("notify_requests", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column("notify_acceptances", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("unmailed", sa.Integer(), nullable=False),
        sa.Column("created_at", node.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", node.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", node.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", node.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_notices_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_notices_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("contact_id", "kind", name=op.f("uq_notices_contact_id")),
    )
    op.create_index("ix_notices_resident_id", "notices", ["resident_id"], unique=False)
    op.create_index("ix_notices_unmailed", "notices", ["unmailed", "resident_id"], unique=False)
    op.create_index(
        "ix_notices_reminder", "notices", ["kind", "reminded_at", "created_at"], unique=False
    )
    op.create_table(
        "notice_mails",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("last_sent_at", node.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_notice_mails_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resident_id", "kind", name=op.f("pk_notice_mails")),
    )


def downgrade() -> None:
    op.drop_table("notice_mails")
    op.drop_index("ix_notices_reminder", table_name="notices")
    op.drop_index("ix_notices_unmailed", table_name="notices")
    op.drop_index("ix_notices_resident_id", table_name="notices")
    op.drop_table("notices")
    with op.batch_alter_table("residents", recreate="never") as batch:
        batch.drop_column("notify_acceptances")
        batch.drop_column("notify_requests")
