"""Domain services: what the node does, each taking the AsyncSession of the caller's
transaction so that a change and its consequences commit together or not at all."""
