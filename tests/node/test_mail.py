"""Mail backends: files in the data directory, or a real SMTP conversation."""

from __future__ import annotations

import asyncio
import logging
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from node.runtime.config import config_from_mapping
from node.runtime.i18n import load_catalogues
from node.runtime.mail import PASSWORD_RESET, Mail, Mailer
from support.nodes import bound_socket, node_document

ROOT = Path(__file__).resolve().parents[2]


def _mailer(tmp_path: Path, mail: dict[str, object]) -> Mailer:
    document = node_document("cholet", 8402, "sqlite+aiosqlite:///x.db", overrides={"mail": mail})
    config = config_from_mapping(document, data_dir=tmp_path, environ={})
    return Mailer(config, load_catalogues(ROOT / "web" / "translations", default="fr"))


async def test_file_backend_writes_one_eml_per_mail(tmp_path: Path) -> None:
    mailer = _mailer(tmp_path, {"backend": "file", "sender": "noreply@monjumeau.example"})
    mail = mailer.compose(
        PASSWORD_RESET, "anne@example.fr", "fr", name="Anne", link="http://x/r?token=t", minutes=60
    )
    await mailer.deliver([mail, Mail("b@example.org", "Subject ✓", "Body ünïcode")])
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2 and not list((tmp_path / "mail").glob("*.tmp"))
    first = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert first["To"] == "anne@example.fr"
    assert first["From"] == "MonJumeau Cholet <noreply@monjumeau.example>"
    assert first["Subject"] == "MonJumeau\u202f: choisissez un nouveau mot de passe"
    text = first.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Bonjour Anne" in text and "http://x/r?token=t" in text and "60 minutes" in text
    assert "le portail du jumelage de Cholet" in text


class FakeSmtp:
    """Just enough of an SMTP server to receive one mail (no TLS)."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.commands: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 test ESMTP\r\n")
        while line := await reader.readline():
            command = line.decode().strip()
            self.commands.append(command.split(" ")[0].upper())
            verb = self.commands[-1]
            if verb in ("EHLO", "HELO"):
                writer.write(b"250-test\r\n250 AUTH PLAIN\r\n")
            elif verb == "AUTH":
                writer.write(b"235 ok\r\n")
            elif verb == "DATA":
                writer.write(b"354 go\r\n")
                await writer.drain()
                data = b""
                while (chunk := await reader.readline()) != b".\r\n":
                    data += chunk
                self.received.append(data)
                writer.write(b"250 queued\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


async def test_smtp_backend_talks_to_the_server(tmp_path: Path) -> None:
    fake = FakeSmtp()
    sock = bound_socket()
    server = await asyncio.start_server(fake.handle, sock=sock)
    try:
        mailer = _mailer(
            tmp_path,
            {
                "backend": "smtp",
                "smtp_host": "127.0.0.1",
                "smtp_port": sock.getsockname()[1],
                "smtp_starttls": False,
                "smtp_username": "portal",
                "smtp_password": "secret",
            },
        )
        await mailer.deliver([Mail("anne@example.fr", "Bonjour", "Texte")])
    finally:
        server.close()
        await server.wait_closed()
    assert len(fake.received) == 1 and b"Subject: Bonjour" in fake.received[0]
    assert "AUTH" in fake.commands and "RCPT" in fake.commands
    assert not (tmp_path / "mail").exists()


async def test_a_failing_mail_server_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there
    mailer = _mailer(tmp_path, {"backend": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port})
    with caplog.at_level(logging.ERROR):
        await mailer.deliver([Mail("anne@example.fr", "Bonjour", "Texte")])
    assert "mail could not be sent" in caplog.text
