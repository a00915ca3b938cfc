"""The demo's node configurations: the shipped ``config/<slug>.toml`` of each city, with
the partner's key fingerprints pinned, written into the city's data directory.

This is what two city admins do by hand (``zwilling keys show`` on one side, the
fingerprints into ``[[peers]]`` on the other); the demo holds both key sets, so it can
fill them in itself. The written files are ordinary configs: ``zwilling --config
data/demo/oldenburg/node.toml --data-dir data/demo/oldenburg peer list`` works on them.

The ports live in three places of each shipped file (``listen.port``, ``node.base_url``
and the partner's ``[[peers]]`` actor URL); :func:`with_ports` moves all of them, so
that ``zwilling demo --ports`` is one option instead of six edits.

Each city's node secret is fixed (:func:`demo_secret`) instead of random: the
pseudonyms, and with them the order in which equal scores are broken, are then the same
on every fresh start, and the demo prints the same twins every time (the README shows
them). Like the demo password, it is published; a real node never uses it.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from node.runtime.config import Config, ConfigError, config_from_mapping, load_config
from node.runtime.files import private_directory, write_private
from node.runtime.keys import SECRET_FILE, NodeKeys, ensure_keys, keys_dir, load_keys

PAIR: tuple[str, str] = ("oldenburg", "cholet")
CONFIG_NAME = "node.toml"
DEFAULT_PORTS: tuple[int, int] = (8401, 8402)


def demo_secret(slug: str) -> str:
    """The published node secret of a demo city (64 hex digits, like a generated one)."""
    return hashlib.sha256(f"zwilling-demo-node-secret/{slug}".encode()).hexdigest()


def read_document(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def pin_partner(document: Mapping[str, Any], partner: Config, keys: NodeKeys) -> dict[str, Any]:
    """``document`` with the partner listed in ``[[peers]]`` with both its fingerprints."""
    fingerprints = [keys.rsa_fingerprint, keys.ed25519_fingerprint]
    peers = [dict(entry) for entry in document.get("peers", [])]
    for entry in peers:
        if entry.get("actor_url") == partner.actor_url:
            entry["fingerprints"] = fingerprints
            break
    else:
        peers.append({"actor_url": partner.actor_url, "fingerprints": fingerprints})
    return {**document, "peers": peers}


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def with_ports(
    documents: Mapping[str, Mapping[str, Any]], ports: Sequence[int]
) -> dict[str, dict[str, Any]]:
    """The pair's documents moved to ``ports`` (in ``PAIR`` order): each city listens on
    its port, names itself by it, and finds its partner there."""
    moved: dict[str, str] = {}
    result: dict[str, dict[str, Any]] = {}
    for slug, port in zip(PAIR, ports, strict=True):
        document = documents[slug]
        node = dict(document.get("node") or {})
        old = str(node.get("base_url", "")).rstrip("/")
        node["base_url"] = _with_port(old, port)
        moved[old] = node["base_url"]
        listen = {**dict(document.get("listen") or {}), "port": port}
        result[slug] = {**document, "node": node, "listen": listen}
    for document in result.values():
        peers = []
        for entry in document.get("peers", []):
            url = str(entry.get("actor_url", ""))
            for old, new in moved.items():
                if old and url.startswith(old + "/"):
                    url = new + url.removeprefix(old)
            peers.append({**entry, "actor_url": url})
        if peers:
            document["peers"] = peers
    return result


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Sequence):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _table(name: str, values: Mapping[str, Any], lines: list[str], header: str) -> None:
    lines.append(header.format(name=name))
    nested = {key: value for key, value in values.items() if isinstance(value, Mapping)}
    lines += [f"{key} = {_value(value)}" for key, value in values.items() if key not in nested]
    for key, table in nested.items():
        lines.append("")
        _table(f"{name}.{key}", table, lines, "[{name}]")


def toml_text(document: Mapping[str, Any], comment: str) -> str:
    """A config document as TOML (tables, sub-tables, arrays of tables, plain values)."""
    lines = [f"# {line}" if line else "#" for line in comment.splitlines()]
    tables = {k: v for k, v in document.items() if isinstance(v, Mapping)}
    arrays = {
        k: v
        for k, v in document.items()
        if isinstance(v, list) and v and all(isinstance(item, Mapping) for item in v)
    }
    lines += [
        f"{key} = {_value(value)}"
        for key, value in document.items()
        if key not in tables and key not in arrays
    ]
    for name, values in tables.items():
        lines.append("")
        _table(name, values, lines, "[{name}]")
    for name, entries in arrays.items():
        for entry in entries:
            lines.append("")
            _table(name, entry, lines, "[[{name}]]")
    return "\n".join(lines) + "\n"


def _plant_secret(config: Config) -> None:
    """The demo secret, unless the city has a secret already (kept data keeps its own)."""
    directory = keys_dir(config)
    if config.node.secret is None and not (directory / SECRET_FILE).exists():
        private_directory(directory)
        write_private(directory / SECRET_FILE, demo_secret(config.node.slug).encode())


def write_pair_configs(
    root: Path, config_dir: Path, ports: Sequence[int] | None = None
) -> list[tuple[Config, NodeKeys]]:
    """Keys for both cities (kept if present) and their configs pinning each other,
    on ``ports`` (Oldenburg's, Cholet's) if given, else on those of the shipped files."""
    documents = {slug: read_document(config_dir / f"{slug}.toml") for slug in PAIR}
    if ports is not None:
        documents = with_ports(documents, ports)
    drafts: dict[str, tuple[Config, NodeKeys]] = {}
    for slug, document in documents.items():
        source = config_dir / f"{slug}.toml"
        draft = config_from_mapping(document, source=source, data_dir=root / slug, environ={})
        private_directory(draft.data_dir)
        _plant_secret(draft)
        ensure_keys(draft)
        drafts[slug] = (draft, load_keys(draft))
    pair: list[tuple[Config, NodeKeys]] = []
    for slug, partner_slug in (PAIR, PAIR[::-1]):
        partner, partner_keys = drafts[partner_slug]
        document = pin_partner(documents[slug], partner, partner_keys)
        path = root / slug / CONFIG_NAME
        comment = (
            f"Written by 'zwilling demo' from {config_dir / f'{slug}.toml'}, with the keys\n"
            f"of {partner.node.city} pinned. Rewritten at every demo start."
        )
        path.write_text(toml_text(document, comment), encoding="utf-8")
        config = load_config(path, data_dir=root / slug, environ={})
        pair.append((config, drafts[slug][1]))
    return pair
