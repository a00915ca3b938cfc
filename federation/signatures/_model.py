"""What parsing a signed request yields: everything needed to check it later."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Scheme = Literal["cavage", "rfc9421"]


@dataclass(frozen=True)
class ParsedSignature:
    """A signature read from a request, with the exact bytes it claims to sign.

    The signature base is rebuilt while parsing, so that the key can be looked
    up by `key_id` in between and the cryptographic check needs nothing but the
    key. `covered` holds normalised component names: lower-case header names
    and draft-cavage pseudo-headers such as "(request-target)", or RFC 9421
    component identifiers such as "@method" or '@query-param;name="id"'.
    """

    scheme: Scheme
    key_id: str
    algorithm: str | None
    covered: tuple[str, ...]
    signature: bytes = field(repr=False)
    signature_base: bytes = field(repr=False)
    created: datetime | None = None
    expires: datetime | None = None
    label: str | None = None
    nonce: str | None = None
    tag: str | None = None
