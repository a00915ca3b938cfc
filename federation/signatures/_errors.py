"""The one exception the signature layer raises for bad requests."""

from __future__ import annotations


class SignatureError(Exception):
    """A request whose signature cannot be accepted.

    `reason` is written for the admin of the sending node, who reads it in a
    log or an HTTP response: it says what was wrong and, where there is one,
    what to do about it. `status` is the HTTP status the inbox should answer.
    """

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status

    def __repr__(self) -> str:
        return f"SignatureError({self.reason!r}, status={self.status})"
