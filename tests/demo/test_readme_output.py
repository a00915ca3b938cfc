"""The README's example output of ``bin/demo`` is what the demo prints for the shipped
configs: the addresses, the mayors and every featured login with its twins."""

from __future__ import annotations

import re
from pathlib import Path

from node.demo.configs import DEFAULT_PORTS, read_document, with_ports
from node.demo.forecast import DemoSide, forecast_twins, summary
from node.demo.population import population
from node.runtime.config import Config, config_from_mapping, load_config

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = [ROOT / "config" / f"{slug}.toml" for slug in ("oldenburg", "cholet")]


def readme_example() -> list[str]:
    """The fenced block of README.md that shows the demo logins, line by line."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    shown = [block for block in blocks if "Demo logins" in block]
    assert len(shown) == 1, "README.md should show the demo's output once"
    return [line.rstrip() for line in shown[0].splitlines()]


def shipped() -> list[Config]:
    return [load_config(path, environ={}) for path in CONFIGS]


def test_readme_shows_what_the_demo_prints() -> None:
    configs = shipped()
    expected = summary(
        [DemoSide(c, population(c.node.slug)) for c in configs], forecast_twins(*configs)
    )
    assert readme_example() == expected[1:]


def test_the_featured_twins_are_the_same_every_time() -> None:
    configs = shipped()
    first = forecast_twins(*configs)
    assert first == forecast_twins(*configs)
    # The mayors are twins whatever else happens.
    assert first["juergen.krogmann@oldenburg.example"] == ["Gilles Bourdouleix"]
    assert "Jürgen Krogmann" in first["gilles.bourdouleix@cholet.example"]


def test_one_option_moves_every_port() -> None:
    documents = {path.stem: read_document(path) for path in CONFIGS}
    moved = with_ports(documents, (9401, 9402))
    oldenburg, cholet = (
        config_from_mapping(moved[slug], environ={}) for slug in ("oldenburg", "cholet")
    )
    assert (oldenburg.listen.port, cholet.listen.port) == (9401, 9402)
    assert oldenburg.node.base_url == "http://127.0.0.1:9401"
    assert cholet.node.base_url == "http://127.0.0.1:9402"
    assert [p.actor_url for p in oldenburg.peers] == ["http://127.0.0.1:9402/actor"]
    assert [p.actor_url for p in cholet.peers] == ["http://127.0.0.1:9401/actor"]
    # The shipped files are what the default ports say.
    assert [c.listen.port for c in shipped()] == list(DEFAULT_PORTS)
