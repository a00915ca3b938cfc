"""Fixtures for the signature, proof and document tests: published vectors and test keys."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from federation.keys import (
    PrivateKey,
    PublicKey,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key_pem,
    load_public_key_pem,
)

VECTORS = Path(__file__).parent / "vectors"


class HeaderLines(Mapping[str, str]):
    """Header field lines in order, repeats allowed, like aiohttp's multidict.

    `items()` yields every line; indexing returns the first, which is all the
    code under test relies on besides `items()`.
    """

    def __init__(self, lines: Sequence[Sequence[str]]) -> None:
        self._lines = [(name, value) for name, value in lines]

    def __getitem__(self, name: str) -> str:
        for line_name, value in self._lines:
            if line_name.lower() == name.lower():
                return value
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(name for name, _ in self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    def items(self) -> Any:
        return list(self._lines)


def read_json(relative: str) -> dict[str, Any]:
    vectors: dict[str, Any] = json.loads((VECTORS / relative).read_text(encoding="utf-8"))
    return vectors


def public_key(relative: str) -> PublicKey:
    return load_public_key_pem((VECTORS / relative).read_text(encoding="ascii"))


def private_key(relative: str) -> PrivateKey:
    return load_private_key_pem((VECTORS / relative).read_bytes())


@pytest.fixture(scope="session")
def rfc9421_vectors() -> dict[str, Any]:
    return read_json("rfc9421/requests.json")


@pytest.fixture(scope="session")
def cavage_vectors() -> dict[str, Any]:
    return read_json("cavage12/requests.json")


@pytest.fixture(scope="session")
def proof_vectors() -> dict[str, Any]:
    return read_json("data_integrity/eddsa_jcs_2022.json")


@pytest.fixture(scope="session")
def rfc9421_public_key() -> Callable[[str], PublicKey]:
    return lambda key_id: public_key(f"rfc9421/{key_id}.pub.pem")


@pytest.fixture(scope="session")
def rfc9421_private_key() -> Callable[[str], PrivateKey]:
    return lambda key_id: private_key(f"rfc9421/{key_id}.pem")


@pytest.fixture(scope="session")
def cavage_public_key() -> PublicKey:
    return public_key("cavage12/test-key.pub.pem")


@pytest.fixture(scope="session")
def cavage_private_key() -> PrivateKey:
    return private_key("cavage12/test-key.pem")


@pytest.fixture(scope="session")
def node_rsa_key() -> rsa.RSAPrivateKey:
    """One 2048-bit key for the whole run: generating RSA keys is slow."""
    return generate_rsa_key(2048)


@pytest.fixture(scope="session")
def node_ed25519_key() -> ed25519.Ed25519PrivateKey:
    return generate_ed25519_key()


def sign_cavage_by_hand(
    key: rsa.RSAPrivateKey,
    *,
    covered: Sequence[str],
    lines: Sequence[str],
    key_id: str = "https://peer.example/actor#main-key",
    algorithm: str = "rsa-sha256",
) -> str:
    """A draft-cavage Signature value built without the code under test."""
    signing_string = "\n".join(lines).encode()
    signature = key.sign(signing_string, padding.PKCS1v15(), hashes.SHA256())
    return (
        f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )


def sign_rfc9421_by_hand(
    key: ed25519.Ed25519PrivateKey,
    *,
    components: Sequence[tuple[str, str]],
    params: str,
    label: str = "sig1",
) -> dict[str, str]:
    """Signature-Input and Signature for (identifier, value) pairs, built by hand."""
    inner = "(" + " ".join(f'"{name}"' for name, _ in components) + ")" + params
    base = "\n".join(
        [f'"{name}": {value}' for name, value in components] + [f'"@signature-params": {inner}']
    )
    signature = base64.b64encode(key.sign(base.encode())).decode()
    return {"Signature-Input": f"{label}={inner}", "Signature": f"{label}=:{signature}:"}


@pytest.fixture(scope="session")
def header_lines() -> type[HeaderLines]:
    return HeaderLines


@pytest.fixture(scope="session")
def cavage_by_hand() -> Callable[..., str]:
    return sign_cavage_by_hand


@pytest.fixture(scope="session")
def rfc9421_by_hand() -> Callable[..., dict[str, str]]:
    return sign_rfc9421_by_hand
