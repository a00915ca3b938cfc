"""What the benchmarks that start a node share: a free loopback port, a node's config."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def node_config(directory: Path, port: int, database_url: str) -> Any:
    """Oldenburg's node on loopback, k-anonymity 1 (seeded vectors stay as they are)."""
    from node.runtime.config import config_from_mapping

    document = {
        "node": {
            "slug": "oldenburg",
            "city": "Oldenburg",
            "base_url": f"http://127.0.0.1:{port}",
            "default_language": "de",
            "minimum_age": 16,
            "database_url": database_url,
        },
        "listen": {"host": "127.0.0.1", "port": port},
        "branding": {"portal_name": "MeinZwilling"},
        "matching": {"k_anonymity": 1},
    }
    return config_from_mapping(document, data_dir=directory / "node", environ={})
