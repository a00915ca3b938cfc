"""HTTP signatures for peer-to-peer requests: draft-cavage (sent) and RFC 9421 (also accepted).

Pure functions over method, target, headers and body; no I/O. The inbox calls
`parse_signature` to learn the keyId, looks up the pinned key for that peer,
then calls `verify_request`, which applies the inbox rules and the
cryptographic check. The delivery worker calls `sign_request` for every
attempt.
"""

from federation.signatures._cavage import sign_request
from federation.signatures._errors import SignatureError
from federation.signatures._message import normalise_authority
from federation.signatures._model import ParsedSignature, Scheme
from federation.signatures._policy import DEFAULT_MAX_SKEW, format_duration, verify_request
from federation.signatures._rfc9421 import sign_request_rfc9421
from federation.signatures._scheme import parse_signature, verify_signature

__all__ = [
    "DEFAULT_MAX_SKEW",
    "ParsedSignature",
    "Scheme",
    "SignatureError",
    "format_duration",
    "normalise_authority",
    "parse_signature",
    "sign_request",
    "sign_request_rfc9421",
    "verify_request",
    "verify_signature",
]
