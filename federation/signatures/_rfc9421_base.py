"""The RFC 9421 signature base (§2.5): component values, derived and from header fields.

Kept apart from parsing and signing because it is the part that must match
other implementations byte for byte; the Appendix B vectors test it directly.
"""

from __future__ import annotations

import base64
from urllib.parse import unquote_to_bytes

from federation._sfv import (
    InnerList,
    Item,
    Member,
    StructuredFieldError,
    Token,
    parse_dictionary,
    parse_list,
    serialize_dictionary,
    serialize_inner_list,
    serialize_item,
    serialize_list,
    serialize_member,
    serialize_params,
)
from federation.signatures._errors import SignatureError
from federation.signatures._message import RequestView

# Component parameters of RFC 9421 §2.1 / §2.2.8 this node can evaluate.
_FIELD_PARAMS = {"sf", "key", "bs"}
_RESPONSE_ONLY_PARAMS = {"req", "tr"}

# Fields whose structured type is known, for the `sf` parameter (RFC 9421 §2.1.1).
_STRUCTURED_TYPES = {
    "signature": "dictionary",
    "signature-input": "dictionary",
    "content-digest": "dictionary",
    "repr-digest": "dictionary",
    "want-content-digest": "dictionary",
    "want-repr-digest": "dictionary",
    "accept-signature": "dictionary",
    "priority": "dictionary",
    "cache-status": "list",
    "proxy-status": "list",
}

# RFC 9421 §2.2.8 re-encodes query names and values with the URL Standard's
# application/x-www-form-urlencoded percent-encode set, but spaces as %20.
_FORM_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-._")


def _form_decode(text: str) -> bytes:
    return unquote_to_bytes(text.replace("+", " "))


def _form_encode(data: bytes) -> str:
    return "".join(chr(byte) if byte in _FORM_SAFE else f"%{byte:02X}" for byte in data)


def _query_param(request: RequestView, name: str) -> str:
    values = [
        _form_encode(_form_decode(value))
        for raw_name, _, value in (
            part.partition("=") for part in (request.query or "").split("&") if part
        )
        if _form_encode(_form_decode(raw_name)) == name
    ]
    if not values:
        raise SignatureError(f"signed query parameter {name!r} is missing from the request")
    if len(values) > 1:
        raise SignatureError(
            f"query parameter {name!r} appears more than once, so it cannot be signed "
            "on its own (RFC 9421 §2.2.8); sign @query instead"
        )
    return values[0]


def _derived_value(request: RequestView, item: Item) -> str:
    name = str(item.value)
    extra = set(item.params) - ({"name"} if name == "@query-param" else set())
    if extra:
        raise SignatureError(f"component {name} does not take parameter(s) {sorted(extra)}")
    if name == "@method":
        return request.method
    if name == "@target-uri":
        return request.target_uri
    if name == "@authority":
        if request.authority is None:
            raise SignatureError("@authority is signed but the request has no Host header")
        return request.authority
    if name == "@scheme":
        return request.scheme
    if name == "@request-target":
        return request.request_target
    if name == "@path":
        return request.path
    if name == "@query":
        return "?" + (request.query or "")
    if name == "@query-param":
        query_name = item.params.get("name")
        if not isinstance(query_name, str) or isinstance(query_name, Token):
            raise SignatureError('@query-param needs a name="…" parameter')
        return _query_param(request, query_name)
    if name == "@status":
        raise SignatureError("@status belongs to responses; this node verifies requests")
    raise SignatureError(f"unknown derived component {name!r}")


def _structured(name: str, combined: str) -> Member | list[Member] | dict[str, Member]:
    kind = _STRUCTURED_TYPES.get(name)
    try:
        if kind == "dictionary":
            return parse_dictionary(combined)
        if kind == "list":
            return parse_list(combined)
    except StructuredFieldError as error:
        raise SignatureError(f"header {name!r} is not a valid structured field: {error}") from None
    raise SignatureError(
        f"cannot re-serialise header {name!r} as a structured field: its type is not known here"
    )


def _field_value(request: RequestView, item: Item) -> str:
    name = str(item.value)
    params = set(item.params)
    if params & _RESPONSE_ONLY_PARAMS:
        raise SignatureError(
            f"component {name} uses {sorted(params & _RESPONSE_ONLY_PARAMS)}, which only "
            "apply to responses or trailers; this node verifies requests"
        )
    if params - _FIELD_PARAMS:
        raise SignatureError(f"component {name} has unknown parameter(s) {sorted(params)}")
    if "bs" in params and params & {"sf", "key"}:
        raise SignatureError(f"component {name} combines bs with sf or key (RFC 9421 §2.1.3)")
    lines = request.headers.lines(name)
    if not lines:
        raise SignatureError(f"signed header {name!r} is missing from the request")
    combined = ", ".join(lines)
    if "bs" in params:
        return ", ".join(
            ":" + base64.b64encode(line.encode("utf-8", "surrogateescape")).decode("ascii") + ":"
            for line in lines
        )
    if "key" in params:
        member_name = item.params["key"]
        if not isinstance(member_name, str):
            raise SignatureError(f'component {name} needs key="…" to be a string')
        try:
            members = parse_dictionary(combined)
        except StructuredFieldError as error:
            raise SignatureError(f"header {name!r} is not a dictionary: {error}") from None
        if member_name not in members:
            raise SignatureError(f"header {name!r} has no member {member_name!r}")
        return serialize_member(members[member_name])
    if "sf" in params:
        parsed = _structured(name, combined)
        if isinstance(parsed, dict):
            return serialize_dictionary(parsed)
        if isinstance(parsed, list):
            return serialize_list(parsed)
        return serialize_member(parsed)
    return combined


def component_name(item: Item) -> str:
    """Normalised name for `ParsedSignature.covered`: the name, then any parameters."""
    return str(item.value) + serialize_params(item.params)


def signature_base(request: RequestView, inner: InnerList) -> bytes:
    """The signature base of RFC 9421 §2.5, ending with the @signature-params line."""
    lines: list[str] = []
    seen: set[str] = set()
    for item in inner.items:
        if not isinstance(item.value, str) or isinstance(item.value, Token):
            raise SignatureError("covered components must be quoted strings")
        name = item.value
        identifier = serialize_item(item)
        if identifier in seen:
            raise SignatureError(f"component {identifier} is covered twice")
        seen.add(identifier)
        if name == "@signature-params":
            raise SignatureError("@signature-params cannot be a covered component")
        if name != name.lower():
            raise SignatureError(f"component names must be lower case, got {name!r}")
        value = (
            _derived_value(request, item) if name.startswith("@") else _field_value(request, item)
        )
        lines.append(f"{identifier}: {value}")
    lines.append(f'"@signature-params": {serialize_inner_list(inner)}')
    return "\n".join(lines).encode("utf-8", "surrogateescape")
