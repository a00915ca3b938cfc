"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.databases import postgres_server_url, scratch_database


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database on the backend under test (SQLite, or PostgreSQL in CI)."""
    async with scratch_database(tmp_path) as url:
        yield url


@pytest.fixture
def postgres_url() -> str:
    """The PostgreSQL server for tests that need PostgreSQL itself."""
    url = postgres_server_url()
    if not url:
        pytest.skip("PostgreSQL not configured: set ZWILLING_TEST_DATABASE_URL to run this")
    return url
