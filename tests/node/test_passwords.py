"""Password hashing and policy (node.services.passwords)."""

from __future__ import annotations

import pytest

from node.accounts import passwords

CONTEXT = ["anna.schmidt@example.org", "Anna Schmidt", "MeinZwilling", "Oldenburg", "oldenburg"]


async def test_hashes_are_argon2id_with_owasp_parameters() -> None:
    hashed = await passwords.hash_password("lantern orchard seventeen")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await passwords.verify_password(hashed, "lantern orchard seventeen")
    assert not passwords.needs_rehash(hashed)


async def test_passwords_are_taken_exactly_as_typed() -> None:
    typed = "  Lantern Orchard  seventeen "
    hashed = await passwords.hash_password(typed)
    assert await passwords.verify_password(hashed, typed)
    for variant in (typed.strip(), typed.lower(), " ".join(typed.split())):
        assert not await passwords.verify_password(hashed, variant)
    composed = "Éclair caféine voilà"  # precomposed é / à
    decomposed = "E\u0301clair cafe\u0301ine voila\u0300"
    hashed = await passwords.hash_password(composed)
    assert not await passwords.verify_password(hashed, decomposed)


async def test_a_broken_stored_hash_is_a_mismatch_not_an_error() -> None:
    assert not await passwords.verify_password("not a hash", "anything")
    assert passwords.needs_rehash("not a hash")
    await passwords.burn_verification("anything")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("", passwords.TOO_SHORT),
        ("seven77", passwords.TOO_SHORT),
        ("x" * 1025, passwords.TOO_LONG),
        ("password", passwords.COMMON),
        ("Password1", passwords.COMMON),
        ("PASSWORT123!", passwords.COMMON),
        ("Sommer2024!", passwords.COMMON),
        ("motdepasse", passwords.COMMON),
        ("azertyuiop", passwords.COMMON),
        ("qwertzuiop", passwords.COMMON),
        ("1q2w3e4r5t", passwords.COMMON),
        ("iloveyou", passwords.COMMON),
        ("12345678", passwords.COMMON),
        ("87654321", passwords.COMMON),
        ("abcdefghij", passwords.COMMON),
        ("zzzzzzzzzz", passwords.COMMON),
        ("abababababab", passwords.COMMON),
        ("24121987", passwords.COMMON),
        ("19870412", passwords.COMMON),
        ("anna.schmidt@example.org", passwords.CONTEXTUAL),
        ("my anna.schmidt@example.org!", passwords.CONTEXTUAL),
        ("annaschmidt", passwords.CONTEXTUAL),
        ("Anna Schmidt 1985", passwords.CONTEXTUAL),
        ("meinzwilling!", passwords.CONTEXTUAL),
        ("Oldenburg2024", passwords.COMMON),
        ("Schmidt-Anna", passwords.CONTEXTUAL),
    ],
)
def test_weak_passwords_are_refused(password: str, problem: str) -> None:
    assert passwords.password_problems(password, CONTEXT) == [problem]


@pytest.mark.parametrize(
    "password",
    [
        "lantern orchard seventeen",
        "correct horse battery staple",
        "Kaffee mit Milch, bitte!",
        "le chat dort sur le canapé",
        ("lantern orchard " * 64)[:1024],
        "8 chars!",
        "fahrrad-hecke-42-wolke",
    ],
)
def test_good_passwords_pass(password: str) -> None:
    assert passwords.password_problems(password, CONTEXT) == []


def test_common_list_is_read_once_and_large() -> None:
    passwords.common_passwords.cache_clear()
    common = passwords.common_passwords()
    assert len(common) > 3000
    assert {"123456", "passwort", "motdepasse", "qwertz", "azerty"} <= common
    assert passwords.common_passwords() is common
