"""Which signature scheme a request uses, and handing it to the right module."""

from __future__ import annotations

from collections.abc import Mapping

from federation.keys import PublicKey
from federation.signatures import _cavage, _rfc9421
from federation.signatures._errors import SignatureError
from federation.signatures._message import RequestView
from federation.signatures._model import ParsedSignature

_AUTH_SCHEME = "signature "


def parse_signature(
    method: str, target: str, headers: Mapping[str, str], *, label: str | None = None
) -> ParsedSignature:
    """Read the request's signature and rebuild the exact bytes it signs.

    `target` is the request target as received (aiohttp: `request.raw_path`)
    or an absolute URL; `headers` may be any mapping, looked up
    case-insensitively. `Signature-Input` means RFC 9421, else a `Signature`
    (or `Authorization: Signature …`) header means draft-cavage. RFC 9421
    messages may carry several signatures; the first is read unless `label`
    names another.
    """
    request = RequestView.build(method, target, headers)
    if "signature-input" in request.headers:
        return _rfc9421.parse(request, label)
    value = request.headers.combined("signature")
    if value is None:
        authorization = request.headers.combined("authorization") or ""
        if authorization[: len(_AUTH_SCHEME)].lower() == _AUTH_SCHEME:
            value = authorization[len(_AUTH_SCHEME) :]
    if value is None:
        raise SignatureError("request is not signed")
    return _cavage.parse(request, value)


def verify_signature(parsed: ParsedSignature, public_key: PublicKey) -> None:
    """The cryptographic check alone; raises SignatureError when it fails."""
    if parsed.scheme == "rfc9421":
        _rfc9421.verify(parsed, public_key)
    else:
        _cavage.verify(parsed, public_key)
