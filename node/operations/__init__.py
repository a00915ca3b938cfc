"""Operating a node's data: copying its database to PostgreSQL (``zwilling db copy``),
backing it up (``zwilling backup``) and restoring it (``zwilling restore``).

Nothing here runs inside a serving node; the CLI calls it while the node is stopped
(copy, restore) or running (backup).
"""
