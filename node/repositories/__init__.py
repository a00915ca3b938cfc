"""Queries over the node's tables, kept apart from the services that decide what to do."""
