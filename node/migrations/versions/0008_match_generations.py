"""match generations: a full computation writes beside the shown results and swaps

The results tables lose their foreign keys: checking three of them for each of the
1.8 million rows a city's computation writes cost PostgreSQL three times as long as
writing the rows. What the keys did on deletion (results vanish with their resident,
remote profile or peer) triggers now do; the writer checks the rows it writes itself
(see node/matches/_store.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import node.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("suggestions", "twins")
_PARENTS = (  # (parent table, column of the results tables pointing at it)
    ("residents", "resident_id"),
    ("remote_profiles", "remote_profile_id"),
    ("peers", "peer_id"),
)


def upgrade() -> None:
    op.create_table(
        "match_generations",
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("current", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.Column("computed_at", node.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["peer_id"],
            ["peers.id"],
            name=op.f("fk_match_generations_peer_id_peers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("peer_id", name=op.f("pk_match_generations")),
    )
    # Existing results are generation 0, which is what readers see of a peer without a
    # row in match_generations.
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("generation", sa.Integer(), nullable=False, server_default="0")
            )
            for parent, column in _PARENTS:
                batch.drop_constraint(f"fk_{table}_{column}_{parent}", type_="foreignkey")
            batch.drop_index(f"ix_{table}_peer_id")
            batch.create_index(f"ix_{table}_peer_generation", ["peer_id", "generation"])
    postgresql = op.get_bind().dialect.name == "postgresql"
    for parent, column in _PARENTS:
        deletes = "".join(
            f"DELETE FROM {t} WHERE {column} = OLD.id; "  # noqa: S608 (constant names)
            for t in _TABLES
        )
        trigger = f"{parent}_drop_matches"
        if postgresql:
            op.execute(
                f"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN {deletes}RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {trigger} AFTER DELETE ON {parent} "
                f"FOR EACH ROW EXECUTE FUNCTION {trigger}()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {trigger} AFTER DELETE ON {parent} FOR EACH ROW BEGIN {deletes}END"
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for parent, _column in _PARENTS:
        trigger = f"{parent}_drop_matches"
        op.execute(f"DROP TRIGGER {trigger}" + (f" ON {parent}" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION {trigger}()")
    for table in _TABLES:
        # Only the shown generation survives the way back, and only rows the foreign
        # keys accept.
        op.execute(
            f"DELETE FROM {table} WHERE generation <> COALESCE("  # noqa: S608 (constant names)
            f"(SELECT current FROM match_generations g WHERE g.peer_id = {table}.peer_id), 0)"
        )
        for parent, column in _PARENTS:
            op.execute(
                f"DELETE FROM {table} WHERE {column} NOT IN (SELECT id FROM {parent})"  # noqa: S608
            )
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_peer_generation")
            batch.create_index(f"ix_{table}_peer_id", ["peer_id"])
            batch.drop_column("generation")
            for parent, column in _PARENTS:
                batch.create_foreign_key(
                    f"fk_{table}_{column}_{parent}", parent, [column], ["id"], ondelete="CASCADE"
                )
    op.drop_table("match_generations")
