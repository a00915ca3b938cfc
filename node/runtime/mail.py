"""Mail to residents: the texts (in the recipient's language) and how they leave.

Two backends, chosen in ``[mail]``: ``file`` writes every mail as an ``.eml`` file
into the data directory's ``mail/`` folder (0700, files 0600), which is what a test,
a demo or a city trying the portal out needs; ``smtp`` hands it to the city's mail
server (STARTTLS, or implicit TLS on port 465, with credentials from the config),
in a worker thread because smtplib blocks.

A mail file's name says whom it concerns (:func:`mail_file_name`): the recipient's
resident id and a short hash of each peer resident it mentions, so that erasing an
account can find its mails without reading any (``node.retention``).

Mails are not sent from here on a page's behalf: they are queued with the change
that causes them and sent by the mail worker (``node.mail``), so the page a person
sees neither waits for the mail server nor depends on it, and looks the same
whether or not a mail was queued at all (that is what keeps registered addresses
secret). Logs name the file or the error class, never an address, a subject or a body.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from node.models import utcnow
from node.runtime.config import Config
from node.runtime.files import private_directory, write_private
from node.runtime.i18n import N_, Catalogues, fill

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Mail:
    """One mail; ``recipient_id`` (the resident it goes to) and ``mentions`` (actor URLs
    of peer residents it names) only tag the stored file, they are not sent."""

    to: str
    subject: str
    body: str
    recipient_id: int | None = None
    mentions: tuple[str, ...] = ()


def actor_tag(actor_url: str) -> str:
    """The short, stable tag of a peer resident in mail file names."""
    return hashlib.sha256(actor_url.encode()).hexdigest()[:16]


MAIL_FILE = re.compile(
    r"^(?P<stamp>\d{8}T\d{12})-[0-9a-f]{8}(?:-r(?P<resident>\d+))?(?P<mentions>(?:-m[0-9a-f]{16})*)\.eml$"
)


def mail_file_name(mail: Mail, stamp: str, nonce: str) -> str:
    """``<stamp>-<nonce>[-r<resident id>][-m<actor tag>…].eml``."""
    parts = [f"{stamp}-{nonce}"]
    if mail.recipient_id is not None:
        parts.append(f"r{mail.recipient_id}")
    parts += [f"m{actor_tag(actor)}" for actor in sorted(set(mail.mentions))]
    return "-".join(parts) + ".eml"


@dataclass(frozen=True, slots=True)
class MailFileTags:
    resident_id: int | None
    actor_tags: frozenset[str]


def mail_file_tags(name: str) -> MailFileTags | None:
    """Whom a mail file concerns, read from its name; None for other files."""
    match = MAIL_FILE.match(name)
    if match is None:
        return None
    resident = match.group("resident")
    mentions = match.group("mentions")
    return MailFileTags(
        resident_id=int(resident) if resident else None,
        actor_tags=frozenset(tag for tag in mentions.split("-m") if tag),
    )


class MailBackend(Protocol):
    async def send(self, message: EmailMessage, mail: Mail) -> None: ...


class FileBackend:
    """Each mail becomes one ``.eml`` file, written atomically (temporary name, then
    rename) so that a reader never sees half a mail; folder 0700, files 0600."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage, mail: Mail) -> None:
        path = await asyncio.to_thread(self._write, message, mail)
        log.info("mail written", extra={"file": path.name})

    def _write(self, message: EmailMessage, mail: Mail) -> Path:
        private_directory(self.directory)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / mail_file_name(mail, stamp, uuid.uuid4().hex[:8])
        write_private(path, message.as_bytes())
        return path


class SmtpBackend:
    def __init__(self, config: Config) -> None:
        self.settings = config.mail

    async def send(self, message: EmailMessage, mail: Mail) -> None:
        await asyncio.to_thread(self._send, message)
        log.info("mail sent", extra={"recipient_id": mail.recipient_id})

    def _send(self, message: EmailMessage) -> None:
        settings = self.settings
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if settings.smtp_port == 465:
            client = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=30, context=context
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
        with client:
            if settings.smtp_port != 465 and settings.smtp_starttls:
                client.starttls(context=context)
            if settings.smtp_username:
                client.login(settings.smtp_username, settings.smtp_password or "")
            client.send_message(message)


class Mailer:
    """Composes mails in the recipient's language and hands them to the backend."""

    def __init__(self, config: Config, catalogues: Catalogues) -> None:
        self.config = config
        self.catalogues = catalogues
        self.backend: MailBackend = (
            SmtpBackend(config)
            if config.mail.backend == "smtp"
            else FileBackend(config.path(config.mail.directory))
        )

    async def send(self, mail: Mail) -> None:
        """Hand one mail to the backend; raises when it cannot (the worker retries)."""
        await self.backend.send(self._message(mail), mail)

    async def deliver(self, mails: list[Mail]) -> None:
        """Send each mail; failures are logged, never raised."""
        for mail in mails:
            try:
                await self.send(mail)
            except Exception as exc:
                # The exception's text may quote the address (a refused recipient):
                # its class and SMTP code say enough to an admin.
                log.error(
                    "mail could not be sent",
                    extra={
                        "recipient_id": mail.recipient_id,
                        "error": type(exc).__name__,
                        "smtp_code": getattr(exc, "smtp_code", None),
                    },
                )

    def _message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        name = f"{self.config.branding.portal_name} {self.config.node.city}"
        message["From"] = f"{name} <{self.config.mail.sender}>"
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = make_msgid(domain=self.config.mail.sender.split("@")[-1])
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(mail.body)
        return message

    def compose(
        self,
        kind: MailText,
        to: str,
        language: str | None,
        *,
        recipient_id: int | None = None,
        mentions: tuple[str, ...] = (),
        **values: str | int,
    ) -> Mail:
        """A mail from one of the texts below, translated into ``language``; the
        recipient's id and the peer residents it names tag the stored file."""
        translator = self.catalogues.get(language)
        params: dict[str, str | int] = {
            "portal": self.config.branding.portal_name,
            "city": self.config.node.city,
            "base_url": self.config.node.base_url,
            **values,
        }
        subject = fill(translator.language, translator.gettext(kind.subject), params)
        body = fill(translator.language, translator.gettext(kind.body), params)
        signature = translator.gettext(SIGNATURE) % params
        return Mail(
            to=to,
            subject=subject,
            body=f"{body}\n\n-- \n{signature}\n",
            recipient_id=recipient_id,
            mentions=mentions,
        )


@dataclass(frozen=True, slots=True)
class MailText:
    subject: str
    body: str


SIGNATURE = N_("%(portal)s, the twin-city portal of %(city)s\n%(base_url)s")

VERIFY_EMAIL = MailText(
    subject=N_("%(portal)s: please confirm your e-mail address"),
    body=N_(
        "Hello %(name)s,\n\n"
        "thank you for registering with %(portal)s. Please confirm your e-mail address "
        "by opening this link within %(hours)s hours:\n\n"
        "%(link)s\n\n"
        "If you did not register, you can ignore this mail."
    ),
)

ALREADY_REGISTERED = MailText(
    subject=N_("%(portal)s: you already have an account"),
    body=N_(
        "Hello %(name)s,\n\n"
        "someone (probably you) tried to register with %(portal)s using this e-mail "
        "address. You already have an account, so nothing was changed.\n\n"
        "Log in here: %(login_link)s\n"
        "Forgotten your password? Choose a new one here: %(reset_link)s\n\n"
        "If it was not you, you can ignore this mail."
    ),
)

PASSWORD_RESET = MailText(
    subject=N_("%(portal)s: choose a new password"),
    body=N_(
        "Hello %(name)s,\n\n"
        "a new password was requested for your %(portal)s account. Open this link "
        "within %(minutes)s minutes to choose one:\n\n"
        "%(link)s\n\n"
        "The link works once. If you did not ask for it, ignore this mail: your "
        "password stays as it is."
    ),
)

PASSWORD_CHANGED = MailText(
    subject=N_("%(portal)s: your password was changed"),
    body=N_(
        "Hello %(name)s,\n\n"
        "the password of your %(portal)s account was just changed and every session "
        "was logged out.\n\n"
        "If that was not you, choose a new password at once: %(reset_link)s"
    ),
)
