"""A scheme-neutral view of an HTTP request: the parts both signature schemes read.

Callers hand in whatever they have (a dict, aiohttp's CIMultiDictProxy, a
target that is a path or an absolute URL); everything below works on this
normalised view so the two schemes cannot disagree on, say, the authority.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from federation.signatures._errors import SignatureError

_DEFAULT_PORTS = {"https": "443", "http": "80"}
_OBS_FOLD = re.compile(r"\r?\n[ \t]+")


def _clean_line(name: str, value: str) -> str:
    """Trim a field line and unfold obsolete line folding, as both specs require."""
    if "\n" not in value and "\r" not in value:
        return value.strip(" \t")
    value = _OBS_FOLD.sub(" ", value).strip(" \t")
    if "\n" in value or "\r" in value:
        raise SignatureError(f"header {name!r} contains a line break")
    return value


class HeaderView:
    """Case-insensitive, multi-valued header lookup over any mapping.

    Iterating `.items()` rather than indexing keeps repeated field lines from
    multidicts (aiohttp) in their received order, which signatures depend on.
    """

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._lines: dict[str, list[str]] = {}
        for name, value in headers.items():
            self._lines.setdefault(name.lower(), []).append(value)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lines

    def lines(self, name: str) -> list[str]:
        """Each field line's value, trimmed, in received order."""
        key = name.lower()
        return [_clean_line(key, line) for line in self._lines.get(key, ())]

    def combined(self, name: str) -> str | None:
        """All field lines joined with ', ', or None when the header is absent."""
        lines = self.lines(name)
        return ", ".join(lines) if lines else None


def normalise_authority(netloc: str, scheme: str) -> str:
    """Lower-case host, no userinfo, default port dropped (RFC 9421 §2.2.3)."""
    netloc = netloc.rpartition("@")[2].lower()
    if netloc.startswith("["):
        end = netloc.find("]")
        host, rest = netloc[: end + 1], netloc[end + 1 :]
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = netloc.partition(":")
    if port and _DEFAULT_PORTS.get(scheme) == port:
        port = ""
    return host + (f":{port}" if port else "")


@dataclass(frozen=True)
class RequestView:
    """Method, target parts and headers of a request, normalised once."""

    method: str
    scheme: str
    authority: str | None
    path: str
    query: str | None
    headers: HeaderView

    @classmethod
    def build(cls, method: str, target: str, headers: Mapping[str, str]) -> RequestView:
        """`target` is the request target as received (a path) or an absolute URL.

        For a path, the authority comes from the Host header and the scheme is
        taken to be https: nodes are only reachable over TLS.
        """
        view = HeaderView(headers)
        scheme_part, sep, after = target.partition("://")
        if sep and scheme_part.isascii() and scheme_part.isalpha():
            scheme = scheme_part.lower()
            ends = [i for i in (after.find(c) for c in "/?#") if i >= 0]
            end = min(ends, default=len(after))
            authority: str | None = normalise_authority(after[:end], scheme)
            rest = after[end:]
        elif target.startswith("/"):
            scheme = "https"
            host = view.combined("host")
            authority = normalise_authority(host, scheme) if host else None
            rest = target
        else:
            raise SignatureError(
                f"request target {target[:60]!r} is neither a path nor an absolute URL"
            )
        rest = rest.partition("#")[0]
        path, has_query, query = rest.partition("?")
        return cls(
            method=method,
            scheme=scheme,
            authority=authority,
            path=path or "/",
            query=query if has_query else None,
            headers=view,
        )

    @property
    def request_target(self) -> str:
        """Path and query as they appear on the request line (origin form)."""
        return self.path + ("" if self.query is None else "?" + self.query)

    @property
    def target_uri(self) -> str:
        if self.authority is None:
            raise SignatureError("the request has no Host header, so its URI is unknown")
        return f"{self.scheme}://{self.authority}{self.request_target}"


def format_http_date(moment: datetime) -> str:
    """RFC 7231 IMF-fixdate, e.g. 'Tue, 20 Apr 2021 02:07:55 GMT'."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def parse_http_date(value: str) -> datetime | None:
    """Parse any HTTP date format; None when the value is not a date."""
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def replace_headers(
    headers: Mapping[str, str], updates: Mapping[str, str], drop: Iterable[str] = ()
) -> dict[str, str]:
    """A copy of `headers` with `updates` set and `drop` removed, names case-insensitive.

    Removing case-insensitively avoids sending both 'host' and 'Host' when a
    caller passes its own lower-case copy of a header the signer sets.
    """
    replaced = {name.lower() for name in updates} | {name.lower() for name in drop}
    result = {name: value for name, value in headers.items() if name.lower() not in replaced}
    result.update(updates)
    return result
