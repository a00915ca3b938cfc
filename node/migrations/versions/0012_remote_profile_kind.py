"""remote_profiles: the vector's kind as a plain, indexed column

The dashboard, on every visit, counts the partner profiles of the resident's kind
(the only ones a twin can come from). With the kind inside the JSON of ``vector``,
that count extracted the JSON of every row of ``remote_profiles`` — tens of
thousands for a partner city — and no index could help. A plain ``kind`` column with
an index on ``(kind, peer_id)`` turns it into a count over the index entries of that
kind (and over one partner city's, should a page count per city).

A plain column rather than one generated from ``vector``: it is written where the
vector is (node.peer_vectors.store, and the model fills it from the vector on every
insert), needs no expression that each backend spells differently, and leaves
``zwilling db copy`` and every bulk path writing ordinary columns. The rows present
are backfilled from their vectors; a vector without a kind (there is none: every
vector is validated on arrival) would get ``''`` and be counted under no kind.

NOT NULL: on PostgreSQL the column is added nullable, backfilled, then made NOT NULL.
SQLite makes an existing column NOT NULL only by copying the table, which would drop
the triggers of migration 0008 with the old copy (see node/migrations/env.py); so
there the column is added in place as ``NOT NULL DEFAULT ''`` (SQLite requires a
default for that) and then backfilled. The default is never used by the node, whose
every write sets the kind.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 03:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_remote_profiles_kind_peer"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("remote_profiles", recreate="never") as batch:
        batch.add_column(
            sa.Column(
                "kind",
                sa.String(16),
                nullable=not sqlite,
                server_default="" if sqlite else None,
            )
        )
    kind = "json_extract(vector, '$.kind')" if sqlite else "vector ->> 'kind'"
    op.execute(f"UPDATE remote_profiles SET kind = COALESCE({kind}, '')")  # noqa: S608 - fixed
    if not sqlite:
        op.alter_column("remote_profiles", "kind", existing_type=sa.String(16), nullable=False)
    op.create_index(_INDEX, "remote_profiles", ["kind", "peer_id"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="remote_profiles")
    with op.batch_alter_table("remote_profiles", recreate="never") as batch:
        batch.drop_column("kind")
