"""Running PostgreSQL's own ``pg_dump`` and ``pg_restore`` against the node's database.

The node's URL is SQLAlchemy's (``postgresql+asyncpg://user:password@host:port/db``);
the tools get it as libpq options, and the password through ``PGPASSWORD`` in their
environment, so that it never shows in a process listing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class ToolFailed(Exception):
    """A PostgreSQL client tool is missing or failed; the message says which and why."""


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ToolFailed(
            f"{name} not found: install the PostgreSQL client tools (Debian: postgresql-client)"
            " in the server's major version or newer"
        )
    return found


def _connection(url: str) -> tuple[list[str], dict[str, str]]:
    parsed = make_url(url)
    options = ["--no-password"]
    if parsed.host:
        options += ["--host", parsed.host]
    if parsed.port:
        options += ["--port", str(parsed.port)]
    if parsed.username:
        options += ["--username", parsed.username]
    options += ["--dbname", parsed.database or ""]
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    ssl = parsed.query.get("sslmode") or parsed.query.get("ssl")
    if isinstance(ssl, str):
        env["PGSSLMODE"] = ssl
    return options, env


def _run(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {result.returncode}"
        raise ToolFailed(f"{Path(argv[0]).name}: {reason}")


def dump(url: str, file: Path) -> None:
    """A custom-format dump: one consistent snapshot, taken while the node writes."""
    options, env = _connection(url)
    _run([tool("pg_dump"), "--format=custom", "--file", str(file), *options], env)


def restore(url: str, file: Path) -> None:
    """All or nothing into an empty database, owned by whoever the URL names."""
    options, env = _connection(url)
    argv = [tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    _run([*argv, "--single-transaction", *options, str(file)], env)
