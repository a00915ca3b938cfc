"""Block, chunk and group sizes of the candidate pass: speed and memory, never the result.

The pass keeps every score that reaches a bound in force and cuts the lists exactly, so
any positive sizes give the same candidate lists. That is why these may differ between
the two nodes of a pair, unlike ``MatchSettings``, and why tests may shrink them to send
a small population through every code path.

The pass reads them at call time, as ``tuning.NAME``; set them before a run.
"""

from __future__ import annotations

TWIN_CHOICES = 32
"""Candidates each resident of the larger side starts the twin assignment with (at least
``top_k`` are kept anyway). A resident turned away by all of them asks for more, so the
twins are the same for any length; longer lists only trade the pass's time against
those requests."""

ROW_BLOCK = 256
"""Rows multiplied at once: two blocks (ROW_BLOCK × columns, float32) are in flight."""

CHUNK_COLUMNS = 8192
"""Columns per matrix product, so that a chunk is still in cache for its reductions."""

COLUMN_GROUP = 32
"""Scores per row-direction group (a row's scores are read only in its hot groups)."""

ROW_GROUP = 16
"""Rows per column-direction group (one witness per group and column per block)."""

NARROW_COLUMNS = 4096
"""Up to this many columns a row's bound comes from partitioning the row itself: with
few groups the group maxima bound too loosely and nearly every group would be read."""

CHOICE_ROWS = 32
"""Rows whose further choices are picked at once (their int64 working arrays span all
the columns they may still ask)."""

SPARSE_SHARE = 0.25
"""A block whose non-zero share of entries is below this is multiplied as a sparse
matrix (a resident touches a few dozen of a few hundred features)."""

SEED_SLICE = 4096
"""Columns seeded per step (a step copies ROW_BLOCK scores of each)."""

GATHER_SLICE = 1 << 15
"""Groups read per step, so the index arrays of a read stay a few megabytes."""

PASS_THREADS: int | None = None
"""Threads multiplying blocks in the candidate pass (None: one per core), each with a
single-threaded BLAS; 1 runs the pass on the calling thread."""
