"""Who may read GET /metrics: nobody unless configured, then with a bearer token or on
a port of its own; and the alert rules shipped for it name metrics it really exposes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from node.metrics.appkeys import METRICS
from node.runtime.config import ConfigError, config_from_mapping
from support.federation import ScriptedPeer, fake_peer
from support.nodes import node_document
from tests.operations.scraping import TOKEN, free_port, scrape, single_node

ALERTS = Path(__file__).resolve().parents[2] / "docs" / "alerts.yml"


# -- access --------------------------------------------------------------------------


async def test_without_token_or_port_there_are_no_metrics(
    tmp_path: Path, database_url: str
) -> None:
    node = await single_node(tmp_path, database_url)
    try:
        assert node.app is not None and node.app.get(METRICS) is None
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"{node.url}/metrics")
        assert answer.status_code == 404
    finally:
        await node.stop()


async def test_the_token_is_required_and_compared_exactly(
    tmp_path: Path, database_url: str
) -> None:
    node = await single_node(tmp_path, database_url, bearer_token=TOKEN)
    try:
        async with httpx.AsyncClient() as client:
            for headers in (
                {},
                {"Authorization": f"Bearer {TOKEN[:-1]}"},
                {"Authorization": f"Bearer {TOKEN}x"},
                {"Authorization": f"Basic {TOKEN}"},
                {"Authorization": TOKEN},
            ):
                answer = await client.get(f"{node.url}/metrics", headers=headers)
                assert answer.status_code == 401, headers
                assert answer.headers["WWW-Authenticate"].startswith("Bearer")
                assert "zwilling_" not in answer.text
        figures = await scrape(node.url)
        assert figures.value("zwilling_database_up") == 1
        assert figures.value("zwilling_residents", status="active") == 0
        assert figures.value("zwilling_published_profiles") == 0
        # The refused scrapes were requests too, counted by route name.
        assert figures.value("zwilling_http_requests_total", route="metrics", status="401") == 5
    finally:
        await node.stop()


async def test_a_port_of_its_own_serves_only_the_metrics(tmp_path: Path, database_url: str) -> None:
    port = free_port()
    node = await single_node(tmp_path, database_url, listen_port=port, bearer_token=TOKEN)
    side = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{node.url}/metrics")).status_code == 404
            assert (await client.get(f"{side}/healthz")).status_code == 404
            assert (await client.get(f"{side}/actor")).status_code == 404
            assert (await client.get(f"{side}/metrics")).status_code == 401
            assert (await client.get(f"{node.url}/healthz")).status_code == 200
        figures = await scrape(side)
        assert figures.value("zwilling_database_up") == 1
        assert figures.value("zwilling_http_requests_total", route="healthz", status="200") == 1
    finally:
        await node.stop()
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{side}/metrics")


def test_configuration_of_access(tmp_path: Path) -> None:
    document = node_document("oldenburg", 8401, "sqlite+aiosqlite:///node.db")

    def load(metrics: dict[str, Any], environ: dict[str, str] | None = None) -> Any:
        return config_from_mapping(
            {**document, "metrics": metrics}, data_dir=tmp_path, environ=environ or {}
        ).metrics

    assert load({}).bearer_token is None and load({}).listen_port is None
    with pytest.raises(ConfigError, match=r"metrics\.bearer_token"):
        load({"bearer_token": "too-short"})
    with pytest.raises(ConfigError, match="listen_port must differ"):
        load({"listen_port": 8401})
    from_env = load({}, {"ZWILLING_METRICS_TOKEN": TOKEN, "ZWILLING_METRICS_PORT": "9464"})
    assert from_env.bearer_token == TOKEN and from_env.listen_port == 9464


# -- the alert rules ------------------------------------------------------------------


async def test_the_alert_rules_name_exposed_metrics(tmp_path: Path, database_url: str) -> None:
    rules = [
        rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]
    ]
    assert {rule["alert"] for rule in rules} == {
        "ZwillingPartnerUnreachable",
        "ZwillingOutboxStuck",
        "ZwillingMatchingStale",
    }
    node = await single_node(tmp_path, database_url, bearer_token=TOKEN)
    try:
        async with ScriptedPeer() as partner:
            await fake_peer(node, partner)
            exposed = (await scrape(node.url)).names()
    finally:
        await node.stop()
    for rule in rules:
        named = set(re.findall(r"\bzwilling_[a-z_]+\b", rule["expr"]))
        assert named, rule["alert"]
        assert named <= exposed, (rule["alert"], named - exposed)
        assert rule["for"] and rule["annotations"]["summary"]
