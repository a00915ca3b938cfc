"""Scraping a node's metrics in tests: the exposition parsed as OpenMetrics, and its
samples looked up by name and labels."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from support.federation import FAST, ScriptedPeer
from support.nodes import RunningNode, prepare_node

TOKEN = "metrics-token-" + "k" * 32
WITH_TOKEN = {"metrics": {"bearer_token": TOKEN}}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Scrape:
    """One parsed exposition: the text as served and its samples by name and labels."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples = [s for f in self.families.values() for s in f.samples]

    def names(self) -> set[str]:
        return set(self.families) | {s.name for s in self.samples}

    def value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 for a labelled series not counted yet."""
        found = [
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]
        assert len(found) <= 1, (name, labels, found)
        return float(found[0]) if found else 0.0

    def labels(self, name: str, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if s.name == name}


async def scrape(url: str, token: str | None = TOKEN) -> Scrape:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(f"{url}/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")
    return Scrape(response.text)


def host_of(node: RunningNode | ScriptedPeer) -> str:
    return node.url.removeprefix("http://")


async def single_node(tmp_path: Path, database_url: str, **metrics: Any) -> RunningNode:
    overrides = {**FAST, "metrics": metrics} if metrics else FAST
    node = await prepare_node(tmp_path, "oldenburg", database_url, overrides=overrides)
    await node.start(extensions=[])
    return node
