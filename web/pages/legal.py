"""The privacy notice and the legal notice, filled from the config's ``[legal]`` section.

The default privacy notice describes what this software does with data
(docs/privacy.md, docs/retention.md), with the periods this node is configured with,
so that the page cannot promise other numbers than the purge applies. A city whose
lawyers wrote their own text names a file instead (``legal.privacy_file``,
``legal.notice_file``); without a ``[legal]`` section the pages still explain
everything and say that the operator is not configured.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from node.accounts import tokens
from node.runtime import appkeys
from node.runtime.config import Config
from web.keys import PAGE
from web.rendering import render
from web.routing import page

log = logging.getLogger(__name__)

MAX_TEXT_BYTES = 200_000


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of a city's own text: a heading or a paragraph (lines kept)."""

    heading: bool
    lines: tuple[str, ...]


def parse_text(text: str) -> list[Block]:
    """A plain-text file as blocks: paragraphs are separated by blank lines, and one
    that starts with "# " is a heading. Plain text, so that the file needs no markup
    and cannot bring script or style into the page."""
    blocks = []
    for chunk in text.replace("\r\n", "\n").split("\n\n"):
        lines = tuple(line.rstrip() for line in chunk.strip("\n").splitlines() if line.strip())
        if not lines:
            continue
        if lines[0].startswith("# "):
            blocks.append(Block(True, (" ".join(lines).removeprefix("# ").strip(),)))
        else:
            blocks.append(Block(False, lines))
    return blocks


def custom_text(
    config: Config, text: Literal["privacy", "notice"], language: str
) -> list[Block] | None:
    """The city's own text in ``language`` (else in the node's language), or None
    for the default text. An unreadable file is logged and the default text shown: a
    legal page must never fail."""
    legal = config.legal
    if legal is None or legal.text_file(text, language) is None:
        return None
    for choice in dict.fromkeys((language, config.node.default_language)):
        path = config.path(legal.text_file(text, choice) or "")
        try:
            with path.open("rb") as file:
                data = file.read(MAX_TEXT_BYTES + 1)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("legal text unreadable", extra={"path": str(path), "error": exc.strerror})
            continue
        if len(data) > MAX_TEXT_BYTES:
            log.warning("legal text too long", extra={"path": str(path)})
            continue
        return parse_text(data.decode("utf-8", errors="replace"))
    log.warning("legal text not found", extra={"text": text, "language": language})
    return None


def _address_lines(config: Config) -> list[str]:
    if config.legal is None:
        return []
    return [line.strip() for line in config.legal.address.splitlines() if line.strip()]


@page
async def privacy(request: web.Request) -> web.Response:
    config = request.app[appkeys.CONFIG]
    language = request[PAGE].language
    return await render(
        request,
        "legal/privacy.html",
        {
            "legal": config.legal,
            "address_lines": _address_lines(config),
            "custom": custom_text(config, "privacy", language),
            "retention": config.retention,
            "sessions": config.sessions,
            "k_anonymity": config.matching.k_anonymity,
            "minimum_age": config.node.minimum_age,
            "verify_hours": int(tokens.LIFETIMES[tokens.VERIFY_EMAIL].total_seconds() // 3600),
            "reset_minutes": int(tokens.LIFETIMES[tokens.PASSWORD_RESET].total_seconds() // 60),
        },
    )


@page
async def legal_notice(request: web.Request) -> web.Response:
    config = request.app[appkeys.CONFIG]
    language = request[PAGE].language
    return await render(
        request,
        "legal/notice.html",
        {
            "legal": config.legal,
            "address_lines": _address_lines(config),
            "custom": custom_text(config, "notice", language),
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/privacy", privacy, name="privacy")
    app.router.add_get("/legal", legal_notice, name="legal")
