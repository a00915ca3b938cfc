"""The privacy notice and the legal notice: in every language, filled from ``[legal]``,
with the retention periods of the config, linked in every footer; a node without
``[legal]`` still explains everything, says "operator not configured", and
``zwilling check`` warns; a city's own text file replaces the default text."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from node.cli import main
from support.nodes import RunningNode, prepare_node, write_config
from support.web import Visitor

LEGAL: dict[str, Any] = {
    "operator": "Stadt Oldenburg (Oldb)",
    "address": "Markt 1\n26122 Oldenburg",
    "email": "meinzwilling@oldenburg.example",
    "phone": "+49 441 235-0",
    "dpo_name": "Dana Datenschutz",
    "dpo_contact": "datenschutz@oldenburg.example",
    "supervisory_authority": "Die Landesbeauftragte für den Datenschutz Niedersachsen",
}
TITLES = {
    "/privacy": {
        "de": "Datenschutzerklärung",
        "fr": "Politique de confidentialité",
        "en": "Privacy notice",
    },
    "/legal": {"de": "Impressum", "fr": "Mentions légales", "en": "Legal notice"},
}
RIGHTS = {"de": "Art. 77 DSGVO", "fr": "art. 77 du RGPD", "en": "art. 77 GDPR"}
NOT_CONFIGURED = {
    "de": "Betreiber nicht konfiguriert",
    "fr": "Exploitant non configuré",
    "en": "Operator not configured",
}


async def started(
    tmp_path: Path, database_url: str, overrides: dict[str, dict[str, Any]]
) -> RunningNode:
    node = await prepare_node(tmp_path, "oldenburg", database_url, overrides=overrides)
    await node.start(run_workers=False)
    return node


async def check(config_file: Path, node: RunningNode) -> int:
    """``zwilling check`` as city IT runs it (in a thread: it runs its own event loop)."""
    argv = ["--config", str(config_file), "--data-dir", str(node.config.data_dir), "check"]
    return await asyncio.to_thread(main, argv)


def heading(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html)
    assert match, "page has no heading"
    return match.group(1)


def cell(html: str, name: str) -> str:
    match = re.search(rf'id="retention-{name}">([^<]*)<', html)
    assert match, f"no retention cell {name}"
    return match.group(1)


@pytest.mark.parametrize("language", ["de", "fr", "en"])
async def test_both_pages_in_each_language_with_the_operator(
    tmp_path: Path, database_url: str, language: str
) -> None:
    node = await started(tmp_path, database_url, {"legal": LEGAL})
    try:
        async with Visitor(node, language=language) as visitor:
            for path, titles in TITLES.items():
                page = await visitor.get(path)
                assert page.status_code == 200, path
                assert heading(page.text) == titles[language]
                assert "Stadt Oldenburg (Oldb)" in page.text
                assert "Markt 1<br>26122 Oldenburg" in page.text
                assert 'href="mailto:meinzwilling@oldenburg.example"' in page.text
                assert "Dana Datenschutz" in page.text
                assert NOT_CONFIGURED[language] not in page.text
            privacy = (await visitor.get("/privacy")).text
            assert RIGHTS[language] in privacy
            assert "Landesbeauftragte für den Datenschutz Niedersachsen" in privacy
            for article in ("15", "16", "17", "18", "19", "20", "21"):
                assert re.search(rf"\b{article}\)", privacy), article
            # Linked from the footer of every page, the privacy notice no longer a section.
            for path in ("/", "/login", "/privacy", "/legal"):
                html = (await visitor.get(path)).text
                footer = html[html.index('<footer class="site-footer">') :]
                assert 'href="/privacy"' in footer and 'href="/legal"' in footer, path
                assert "/#privacy" not in footer
    finally:
        await node.stop()


async def test_retention_periods_on_the_page_come_from_the_config(
    tmp_path: Path, database_url: str
) -> None:
    shipped = await started(tmp_path / "a", database_url, {"legal": LEGAL})
    try:
        async with Visitor(shipped, language="en") as visitor:
            page = (await visitor.get("/privacy")).text
        assert cell(page, "activity") == "7 days"
        assert cell(page, "reports") == "180 days"
        assert cell(page, "idle") == "120 minutes"
        assert "fewer than" not in page  # k = 1 on the test nodes: nothing is coarsened
    finally:
        await shipped.stop()
    changed = await started(
        tmp_path / "b",
        database_url,
        {
            "legal": LEGAL,
            "retention": {"activity_payload_days": 1, "handled_report_days": 90},
            "sessions": {"idle_timeout_minutes": 45},
            "matching": {"k_anonymity": 8},
        },
    )
    try:
        async with Visitor(changed, language="de") as visitor:
            page = (await visitor.get("/privacy")).text
        assert cell(page, "activity") == "1 Tag"
        assert cell(page, "reports") == "90 Tage"
        assert cell(page, "idle") == "45 Minuten"
        assert cell(page, "mail") == "30 Tage"
        assert "weniger als 8 Einwohnerinnen" in page
    finally:
        await changed.stop()


async def test_without_legal_section_the_default_text_says_operator_not_configured(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    node = await started(tmp_path, database_url, {})
    try:
        for language in ("de", "fr", "en"):
            async with Visitor(node, language=language) as visitor:
                for path, titles in TITLES.items():
                    page = await visitor.get(path)
                    assert page.status_code == 200
                    assert heading(page.text) == titles[language]
                    assert NOT_CONFIGURED[language] in page.text
                privacy = (await visitor.get("/privacy")).text
                assert RIGHTS[language] in privacy
                assert 'id="retention-activity"' in privacy
        config_file = write_config(node, tmp_path / "node.toml")
    finally:
        await node.stop()
    await check(config_file, node)
    assert "[warn] legal: no [legal] section" in capsys.readouterr().out


async def test_check_names_the_operator_and_missing_text_files(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    legal = {**LEGAL, "privacy_file": "legal/privacy.{lang}.txt"}
    node = await prepare_node(tmp_path, "oldenburg", database_url, overrides={"legal": legal})
    config_file = write_config(node, tmp_path / "node.toml")
    node.sock.close()
    assert await check(config_file, node) == 1
    out = capsys.readouterr().out
    assert "[ok] legal: operator Stadt Oldenburg (Oldb)" in out
    assert "[!!] legal: privacy text (de):" in out and "not found" in out
    assert "[warn] legal: no [legal] section" not in out

    texts = node.config.data_dir / "legal"
    texts.mkdir()
    (texts / "privacy.de.txt").write_text("# Datenschutz\n\nText.\n", encoding="utf-8")
    await check(config_file, node)
    out = capsys.readouterr().out
    assert "[ok] legal: privacy text (de):" in out
    assert "[warn] legal: privacy text (fr):" in out


async def test_a_city_text_file_replaces_the_default_text(
    tmp_path: Path, database_url: str
) -> None:
    legal = {**LEGAL, "privacy_file": "legal/privacy.{lang}.txt"}
    node = await prepare_node(tmp_path, "oldenburg", database_url, overrides={"legal": legal})
    texts = node.config.data_dir / "legal"
    texts.mkdir(parents=True)
    (texts / "privacy.de.txt").write_text(
        "# Unsere Datenschutzerklärung\n\nWir sind die Stadt.\nZweite Zeile.\n\n"
        "<script>alert(1)</script>\n",
        encoding="utf-8",
    )
    await node.start(run_workers=False)
    try:
        for language in ("de", "fr"):  # no French file: the node's language is shown
            async with Visitor(node, language=language) as visitor:
                page = (await visitor.get("/privacy")).text
            assert "<h2>Unsere Datenschutzerklärung</h2>" in page
            assert "<p>Wir sind die Stadt.<br>Zweite Zeile.</p>" in page
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
            assert "<script>" not in page
            assert 'id="retention-activity"' not in page
        async with Visitor(node, language="de") as visitor:
            notice = (await visitor.get("/legal")).text  # no notice_file: the default
        assert "Stadt Oldenburg (Oldb)" in notice
    finally:
        await node.stop()
