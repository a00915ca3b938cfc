"""How often an address may be mailed and a client may ask for mail.

Counters live in the database, so they hold across processes and restarts. Each
is a fixed window of one hour: the first request opens the window, and once the
limit is reached further requests are refused until it closes, without counting
them (a refused request changes nothing).

The mail limit is per target address, registered or not, so a refusal looks the
same for every address; the client limit is per network address of the sender.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from node.accounts._login_throttle import row_for_update
from node.runtime.config import LimitsSection

WINDOW = timedelta(hours=1)
MAIL_PREFIX = "mail "
REQUEST_PREFIX = "asks "

Action = Literal["message", "contact_request", "report"]


async def take(
    session: AsyncSession, key: str, limit: int, now: datetime, window: timedelta = WINDOW
) -> datetime | None:
    """Count one request for ``key``; when it is over ``limit``, when to come back."""
    return await take_all(session, [(key, limit)], now, window)


async def take_all(
    session: AsyncSession,
    counters: list[tuple[str, int]],
    now: datetime,
    window: timedelta = WINDOW,
) -> datetime | None:
    """Count one request on every counter, or on none if any is at its limit.

    Rows are locked in key order, so two requests never wait on each other's locks.
    """
    rows = [(await row_for_update(session, key), limit) for key, limit in sorted(counters)]
    ends = []
    for row, limit in rows:
        if row.last_failure_at is None or now - row.last_failure_at >= window:
            row.failures = 0
            row.last_failure_at = now
        if row.failures >= limit:
            ends.append(row.last_failure_at + window)
    if not ends:
        for row, _ in rows:
            row.failures += 1
    await session.flush()
    return max(ends) if ends else None


async def take_mail(
    session: AsyncSession, limits: LimitsSection, email: str, now: datetime
) -> bool:
    """Whether ``email`` may receive one more mail this hour (and count it if so)."""
    return await take(session, MAIL_PREFIX + email, limits.mails_per_address_per_hour, now) is None


async def take_request(
    session: AsyncSession, limits: LimitsSection, client: str, now: datetime
) -> datetime | None:
    """Count a mail-sending request from ``client``; when to come back if over."""
    return await take(session, REQUEST_PREFIX + client, limits.requests_per_client_per_hour, now)


async def take_action(
    session: AsyncSession,
    limits: LimitsSection,
    action: Action,
    resident_id: int,
    client: str,
    now: datetime,
) -> datetime | None:
    """Count a message, contact request or report of a resident from a client."""
    per_resident = {
        "message": limits.messages_per_resident_per_hour,
        "contact_request": limits.contact_requests_per_resident_per_hour,
        "report": limits.reports_per_resident_per_hour,
    }[action]
    counters = [
        (f"{REQUEST_PREFIX}{action} {resident_id}", per_resident),
        (f"{REQUEST_PREFIX}{action} from {client}", limits.actions_per_client_per_hour),
    ]
    return await take_all(session, counters, now)


def client_address(peer: str | None, forwarded_for: str | None, limits: LimitsSection) -> str:
    """The address a request comes from.

    The connection's peer, unless that peer is a trusted proxy: then the right-most
    X-Forwarded-For entry that is not itself a trusted proxy (the ones further left
    were written by the client and prove nothing).

    An IPv6 client is counted by its /64 network: one household or phone gets a
    whole /64 and can pick a fresh address in it for every request.
    """
    trusted = {_canonical(p) for p in limits.trusted_proxies}
    current = _canonical(peer or "unknown")
    if current not in trusted or not forwarded_for:
        return _counted(current)
    for entry in reversed([part.strip() for part in forwarded_for.split(",")]):
        entry = _canonical(entry)
        if not entry:
            break
        current = entry
        if entry not in trusted:
            break
    return _counted(current)


def _counted(address: str) -> str:
    """The unit a client is counted by: an IPv4 address, or an IPv6 /64 network."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return address


def _canonical(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return address.strip()[:64]
