"""Label values, bounded and impersonal: whatever a client or a peer sends is mapped
onto a short fixed vocabulary before it becomes a label, so that neither a person
nor an unbounded number of series can appear in the output."""

from __future__ import annotations

from urllib.parse import urlsplit

# An inbox refusal by its HTTP status: what kind of trouble, not what was sent.
REFUSAL_CLASSES = {
    400: "malformed",
    401: "signature",
    403: "forbidden",
    404: "unknown_addressee",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "media_type",
    422: "unprocessable",
    429: "throttled",
    503: "unavailable",
}


def peer_label(actor_url: str) -> str:
    """A peer as monitoring names it: its host[:port], plus the actor's path when that
    is not the usual ``/actor`` (two peers on one host stay apart)."""
    parts = urlsplit(actor_url)
    path = parts.path if parts.path not in ("", "/actor") else ""
    return f"{parts.netloc}{path}" or actor_url


def refusal_class(status: int) -> str:
    if status in REFUSAL_CLASSES:
        return REFUSAL_CLASSES[status]
    return "client_error" if status < 500 else "server_error"
