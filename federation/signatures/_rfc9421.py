"""RFC 9421 HTTP Message Signatures: `Signature-Input` / `Signature`.

Accepted for interoperability with software that has moved on from
draft-cavage. Only request signatures are handled: nodes verify what arrives
at their inbox and their peer-only endpoints, never responses.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from federation._sfv import (
    InnerList,
    Item,
    Member,
    StructuredFieldError,
    Token,
    parse_dictionary,
    serialize_inner_list,
)
from federation.digest import content_digest_header
from federation.keys import PrivateKey, PublicKey, key_type_name
from federation.signatures._algorithms import (
    require_ed25519,
    require_p256,
    require_rsa,
    sign_ed25519,
    sign_rsa_pkcs1v15_sha256,
    signature_mismatch,
    verify_ecdsa_p256_sha256,
    verify_ed25519,
    verify_rsa_pkcs1v15_sha256,
    verify_rsa_pss_sha512,
)
from federation.signatures._errors import SignatureError
from federation.signatures._message import RequestView, format_http_date, replace_headers
from federation.signatures._model import ParsedSignature
from federation.signatures._rfc9421_base import component_name, signature_base

SUPPORTED_ALGORITHMS = ("ed25519", "rsa-v1_5-sha256", "rsa-pss-sha512", "ecdsa-p256-sha256")

_REFUSED_ALGORITHMS = {
    "hmac-sha256": "peers never share secret keys",
    "ecdsa-p384-sha384": "not supported by this node",
}


def _string_param(inner: InnerList, name: str) -> str | None:
    value = inner.params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or isinstance(value, Token):
        raise SignatureError(f"Signature-Input {name} parameter must be a quoted string")
    return value


def _time_param(inner: InnerList, name: str) -> datetime | None:
    value = inner.params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SignatureError(f"Signature-Input {name} parameter must be an integer")
    return datetime.fromtimestamp(value, UTC)


def _dictionary(request: RequestView, header: str) -> dict[str, Member]:
    raw = request.headers.combined(header)
    if raw is None:
        raise SignatureError(f"{header} header is missing")
    try:
        return parse_dictionary(raw)
    except StructuredFieldError as error:
        raise SignatureError(f"{header} header is malformed: {error}") from None


def parse(request: RequestView, label: str | None = None) -> ParsedSignature:
    """Parse one signature of `Signature-Input` (the first unless `label` is given)."""
    inputs = _dictionary(request, "Signature-Input")
    if not inputs:
        raise SignatureError("Signature-Input header is empty")
    if label is None:
        label = next(iter(inputs))
    elif label not in inputs:
        raise SignatureError(f"Signature-Input has no signature labelled {label!r}")
    inner = inputs[label]
    if not isinstance(inner, InnerList):
        raise SignatureError(f"Signature-Input {label!r} is not a list of covered components")
    signatures = _dictionary(request, "Signature")
    member = signatures.get(label)
    if not isinstance(member, Item) or not isinstance(member.value, bytes):
        raise SignatureError(f"Signature header has no :base64: value for label {label!r}")

    key_id = _string_param(inner, "keyid")
    if not key_id:
        raise SignatureError(f"Signature-Input {label!r} has no keyid")
    algorithm = _string_param(inner, "alg")
    if algorithm is not None and algorithm not in SUPPORTED_ALGORITHMS:
        why = _REFUSED_ALGORITHMS.get(algorithm, "unknown algorithm")
        raise SignatureError(
            f"unsupported signature algorithm {algorithm!r} ({why}); "
            f"this node accepts {', '.join(SUPPORTED_ALGORITHMS)}"
        )
    return ParsedSignature(
        scheme="rfc9421",
        key_id=key_id,
        algorithm=algorithm,
        covered=tuple(component_name(item) for item in inner.items),
        signature=member.value,
        signature_base=signature_base(request, inner),
        created=_time_param(inner, "created"),
        expires=_time_param(inner, "expires"),
        label=label,
        nonce=_string_param(inner, "nonce"),
        tag=_string_param(inner, "tag"),
    )


def verify(parsed: ParsedSignature, public_key: PublicKey) -> None:
    """Check the signature; without `alg` the algorithm follows the key (RFC 9421 §3.2)."""
    data, signature, algorithm = parsed.signature_base, parsed.signature, parsed.algorithm
    if algorithm == "ed25519" or (
        algorithm is None and isinstance(public_key, ed25519.Ed25519PublicKey)
    ):
        ok = verify_ed25519(require_ed25519(public_key, parsed), signature, data)
        tried = "ed25519"
    elif algorithm == "rsa-v1_5-sha256":
        ok = verify_rsa_pkcs1v15_sha256(require_rsa(public_key, parsed), signature, data)
        tried = algorithm
    elif algorithm == "rsa-pss-sha512":
        ok = verify_rsa_pss_sha512(require_rsa(public_key, parsed), signature, data)
        tried = algorithm
    elif algorithm == "ecdsa-p256-sha256" or (
        algorithm is None and isinstance(public_key, ec.EllipticCurvePublicKey)
    ):
        ok = verify_ecdsa_p256_sha256(require_p256(public_key, parsed), signature, data)
        tried = "ecdsa-p256-sha256"
    elif algorithm is None and isinstance(public_key, rsa.RSAPublicKey):
        ok = verify_rsa_pkcs1v15_sha256(public_key, signature, data) or verify_rsa_pss_sha512(
            public_key, signature, data
        )
        tried = "rsa-v1_5-sha256 and rsa-pss-sha512"
    else:
        raise SignatureError(f"no RFC 9421 algorithm fits a {key_type_name(public_key)} key")
    if not ok:
        raise signature_mismatch(parsed, tried)


def _valid_label(label: str) -> bool:
    try:
        return list(parse_dictionary(f"{label}=1")) == [label]
    except StructuredFieldError:
        return False


def sign_request_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    key_id: str,
    private_key: PrivateKey,
    now: datetime | None = None,
    label: str = "sig1",
) -> dict[str, str]:
    """Sign an outgoing request with RFC 9421 (ed25519, or rsa-v1_5-sha256 for RSA keys).

    Covers @method @authority @path (@query when there is one), date and, for a
    body or any POST, content-digest; `created`, `keyid` and `alg` are set.
    """
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        algorithm = "ed25519"
    elif isinstance(private_key, rsa.RSAPrivateKey):
        algorithm = "rsa-v1_5-sha256"
    else:
        raise TypeError(
            f"RFC 9421 signing supports Ed25519 and RSA keys, not {key_type_name(private_key)}"
        )
    if not _valid_label(label):
        raise ValueError(f"{label!r} is not a valid signature label (a structured-field key)")
    if not all(" " <= char <= "~" for char in key_id):
        raise ValueError("keyid must be printable ASCII")
    moment = now if now is not None else datetime.now(UTC)
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"url must be absolute, got {url[:60]!r}")
    target = RequestView.build(method, url, {})
    if target.authority is None:
        raise ValueError("url must be absolute")
    updates = {"Host": target.authority, "Date": format_http_date(moment)}
    components = ["@method", "@authority", "@path"]
    if target.query is not None:
        components.append("@query")
    components.append("date")
    if body is not None or method.upper() == "POST":
        updates["Content-Digest"] = content_digest_header(body or b"")
        components.append("content-digest")
    signed = replace_headers(headers, updates, drop=("signature", "signature-input"))
    inner = InnerList(
        tuple(Item(component) for component in components),
        {"created": int(moment.timestamp()), "keyid": key_id, "alg": algorithm},
    )
    base = signature_base(RequestView.build(method, url, signed), inner)
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        raw = sign_ed25519(private_key, base)
    else:
        raw = sign_rsa_pkcs1v15_sha256(private_key, base)
    signed["Signature-Input"] = f"{label}={serialize_inner_list(inner)}"
    signed["Signature"] = f"{label}=:{base64.b64encode(raw).decode('ascii')}:"
    return signed
