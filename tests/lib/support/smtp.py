"""A small SMTP server on loopback that a test controls: it can hold every mail at
the end of ``DATA`` until the test releases it, and refuse the first mails with a
temporary error (451), as a busy or broken city mail server does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage

from tests.lib.support.nodes import bound_socket


class SmtpServer:
    def __init__(self, *, refuse_first: int = 0, hold: bool = False) -> None:
        self.received: list[EmailMessage] = []
        self.refused = 0
        self.refuse_first = refuse_first
        self.released = asyncio.Event()
        if not hold:
            self.released.set()
        self.arrived = asyncio.Event()  # a mail reached DATA (held or not)
        self.accepted = asyncio.Event()  # a mail was accepted
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 test ESMTP\r\n")
        await writer.drain()
        while line := await reader.readline():
            verb = line.decode().strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                writer.write(b"250 test\r\n")
            elif verb == "MAIL" and self.refused < self.refuse_first:
                self.refused += 1
                writer.write(b"451 try again later\r\n")
            elif verb == "DATA":
                writer.write(b"354 go\r\n")
                await writer.drain()
                data = b""
                while (chunk := await reader.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.arrived.set()
                await self.released.wait()
                message = message_from_bytes(data, policy=policy.default)
                assert isinstance(message, EmailMessage)
                self.received.append(message)
                self.accepted.set()
                writer.write(b"250 queued\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    def settings(self) -> dict[str, object]:
        """The node's ``[mail]`` section for this server."""
        return {
            "backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_starttls": False,
            "sender": "noreply@meinzwilling.example",
        }


@asynccontextmanager
async def smtp_server(server: SmtpServer) -> AsyncIterator[SmtpServer]:
    sock = bound_socket()
    server.port = sock.getsockname()[1]
    listening = await asyncio.start_server(server.handle, sock=sock)
    try:
        yield server
    finally:
        server.released.set()  # never leave a sending worker hanging
        listening.close()
        await listening.wait_closed()
