"""A running Oldenburg node with its web interface, for the page tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.nodes import RunningNode, prepare_node


@pytest.fixture
def node_overrides() -> dict[str, dict[str, object]]:
    """Config sections to change for one test (override this fixture in a module)."""
    return {}


@pytest.fixture
async def node(
    tmp_path: Path, database_url: str, node_overrides: dict[str, dict[str, object]]
) -> AsyncIterator[RunningNode]:
    running = await prepare_node(tmp_path, "oldenburg", database_url, overrides=node_overrides)
    await running.start(run_workers=False)
    try:
        yield running
    finally:
        await running.stop()
