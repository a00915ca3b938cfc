"""match results: a resident's rows found by resident, peer and generation

Since migration 0008 a reader asks for a resident's results with a peer *of the
shown generation*. Both ``(resident_id, peer_id)`` and ``(peer_id, generation)``
then matched two columns of the question, and SQLite (which keeps no statistics
unless told to) took the second for the twins of the "my twin" page and for the
suggestions a profile save refreshes: it walked every row of the generation —
some 100,000 twins or 1.6 million suggestions of a city — to find one resident's.
With the generation in the resident's index, that index matches three columns
and is the one taken; it still serves every question by resident (and peer)
alone, so it replaces the old one.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 03:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_suggestions_resident_peer_generation",
        "suggestions",
        ["resident_id", "peer_id", "generation", "rank"],
    )
    op.drop_index("ix_suggestions_resident_peer", table_name="suggestions")
    op.create_index(
        "ix_twins_resident_peer_generation", "twins", ["resident_id", "peer_id", "generation"]
    )
    op.drop_index("ix_twins_resident_peer", table_name="twins")


def downgrade() -> None:
    op.create_index("ix_twins_resident_peer", "twins", ["resident_id", "peer_id"])
    op.drop_index("ix_twins_resident_peer_generation", table_name="twins")
    op.create_index(
        "ix_suggestions_resident_peer", "suggestions", ["resident_id", "peer_id", "rank"]
    )
    op.drop_index("ix_suggestions_resident_peer_generation", table_name="suggestions")
