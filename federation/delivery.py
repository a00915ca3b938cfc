"""Delivery policy without I/O: what a response means, when to try again, when to stop.

The worker that sends lives in the node; these rules are kept here so that they
can be read (and tested) in one place. The schedule: exponential backoff from
``base`` doubling per failed try up to ``cap``, with "equal jitter" (half the
delay fixed, half random) so that a peer coming back is not hit by every queued
row of every node at the same second, yet delays still grow. A row is given up
once it is older than the maximum age and its latest try failed.
"""

from __future__ import annotations

import enum
import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = [
    "RETRY_AFTER_CAP_SECONDS",
    "Outcome",
    "backoff_seconds",
    "classify",
    "expired",
    "parse_retry_after",
    "retry_delay",
]

# A peer may ask for a pause, but not for one longer than a day per try: the row
# still has its own maximum age, and a misconfigured header must not park it.
RETRY_AFTER_CAP_SECONDS = 24 * 3600.0


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GIVE_UP = "give_up"


def classify(status: int) -> Outcome:
    """2xx delivered; 408, 429 and 5xx are the peer's momentary trouble, so retry;
    any other status (400, 401, 403, 404, 410, 413, a redirect) will not change by
    sending the same bytes again, so the row is kept as failed for an admin to see."""
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status in (408, 429) or 500 <= status < 600:
        return Outcome.RETRY
    return Outcome.GIVE_UP


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date).

    None when absent or unreadable; a date in the past means "now" (0).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_seconds(
    tries: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Delay before try ``tries + 1`` after ``tries`` failed ones (tries >= 1)."""
    exponent = min(max(tries, 1) - 1, 62)
    ceiling = min(cap, base * (2.0**exponent))
    draw = (rng or random).random()
    return ceiling / 2 + draw * ceiling / 2


def retry_delay(
    tries: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """The backoff delay, lengthened to what the peer asked for in ``Retry-After``."""
    delay = backoff_seconds(tries, base=base, cap=cap, rng=rng)
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP_SECONDS))
    return delay


def expired(created_at: datetime, now: datetime, max_age: timedelta) -> bool:
    """True once a row has been retried for its whole allowed lifetime."""
    return now - created_at >= max_age
