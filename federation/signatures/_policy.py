"""The inbox's rules on top of a valid signature: what must be signed, how fresh, which body.

A signature can be cryptographically sound and still worthless: one that does
not cover the body can be replayed with another body, one without a date can
be replayed forever. These rules are the design's inbox rules, and each
failure says precisely what to fix, because clock skew and proxies that
rewrite headers are what admins run into first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from federation.digest import content_digest_problem, digest_header_problem
from federation.keys import PublicKey
from federation.signatures._errors import SignatureError
from federation.signatures._message import HeaderView, parse_http_date
from federation.signatures._model import ParsedSignature
from federation.signatures._scheme import parse_signature, verify_signature

DEFAULT_MAX_SKEW = timedelta(hours=1)

_CAVAGE_TARGET = "(request-target)"
_RFC9421_PATHS = frozenset({"@path", "@target-uri", "@request-target"})
_RFC9421_AUTHORITIES = frozenset({"@authority", "host", "@target-uri"})


def format_duration(span: timedelta) -> str:
    """'2 h 03 min', '4 min 10 s', '7 s': precise enough to spot a time-zone error.

    Seconds are dropped once hours are shown, except just past a whole hour,
    where "1 h" would look like no violation of a ±1 h window.
    """
    total = int(abs(span.total_seconds()))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        if not minutes and seconds:
            return f"{hours} h 00 min {seconds:02d} s"
        return f"{hours} h" + (f" {minutes:02d} min" if minutes else "")
    if minutes:
        return f"{minutes} min" + (f" {seconds:02d} s" if seconds else "")
    return f"{seconds} s"


def _missing_components(parsed: ParsedSignature, method: str, body: bytes) -> list[str]:
    covered = set(parsed.covered)
    needs_digest = bool(body) or method.upper() == "POST"
    missing: list[str] = []
    if parsed.scheme == "cavage":
        if _CAVAGE_TARGET not in covered:
            missing.append(_CAVAGE_TARGET)
        if "host" not in covered:
            missing.append("host")
        if "date" not in covered and "(created)" not in covered:
            missing.append("date")
        if needs_digest and "digest" not in covered:
            missing.append("digest")
        return missing
    if "@method" not in covered:
        missing.append("@method")
    if not covered & _RFC9421_PATHS:
        missing.append("@path")
    if not covered & _RFC9421_AUTHORITIES:
        missing.append("@authority")
    if "date" not in covered and parsed.created is None:
        missing.append("date (or a created parameter)")
    if needs_digest and "content-digest" not in covered:
        missing.append("content-digest")
    return missing


def _check_skew(what: str, moment: datetime, now: datetime, max_skew: timedelta) -> None:
    skew = moment - now
    if abs(skew) > max_skew:
        direction = "behind" if skew < timedelta(0) else "ahead of"
        raise SignatureError(
            f"{what} is {format_duration(skew)} {direction} this node's clock "
            f"(allowed ±{format_duration(max_skew)}); check the sender's clock (NTP)"
        )


def _check_time(
    parsed: ParsedSignature, headers: HeaderView, now: datetime, max_skew: timedelta
) -> None:
    if "date" in parsed.covered:
        raw = headers.combined("date") or ""
        moment = parse_http_date(raw)
        if moment is None:
            raise SignatureError(f"Date header {raw[:40]!r} is not an HTTP date")
        _check_skew("Date", moment, now, max_skew)
    if parsed.created is not None:
        _check_skew("The signature's created time", parsed.created, now, max_skew)
    if parsed.expires is not None and parsed.expires <= now:
        raise SignatureError(
            f"the signature expired {format_duration(now - parsed.expires)} ago; "
            "the sender must sign each attempt afresh"
        )


def _check_digest(parsed: ParsedSignature, headers: HeaderView, body: bytes) -> None:
    if parsed.scheme == "cavage" and "digest" in parsed.covered:
        problem = digest_header_problem(headers.combined("digest") or "", body)
    elif parsed.scheme == "rfc9421" and "content-digest" in parsed.covered:
        problem = content_digest_problem(headers.combined("content-digest") or "", body)
    else:
        return
    if problem is not None:
        raise SignatureError(problem)


def verify_request(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    public_key: PublicKey,
    now: datetime,
    max_skew: timedelta | float = DEFAULT_MAX_SKEW,
    parsed: ParsedSignature | None = None,
) -> ParsedSignature:
    """Accept a signed request only if it satisfies every inbox rule.

    The covered components must include the request target, host, date (or a
    signed created time) and, for a body or any POST, the body digest; the
    date must lie within ±max_skew of `now`; the digest must match `body`; and
    the signature must verify with `public_key`. Pass `parsed` when the
    signature was already parsed to look the key up. `max_skew` may also be
    given in seconds. Every failure raises SignatureError with status 401 and a
    reason naming what to fix.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not isinstance(max_skew, timedelta):
        max_skew = timedelta(seconds=max_skew)
    if parsed is None:
        parsed = parse_signature(method, target, headers)
    missing = _missing_components(parsed, method, body)
    if missing:
        raise SignatureError(
            f"the signature does not cover {', '.join(missing)}; this node requires the "
            "request target, host, date and (for a body) the digest to be signed"
        )
    view = HeaderView(headers)
    _check_time(parsed, view, now, max_skew)
    _check_digest(parsed, view, body)
    verify_signature(parsed, public_key)
    return parsed
