"""Password hashing and the password policy.

Hashing uses Argon2id with OWASP's current minimum (19 MiB memory, 2 passes, one
lane): slow enough to make a stolen table expensive to crack, fast enough (tens of
milliseconds) for a login. It runs in a worker thread so the event loop keeps
serving other requests meanwhile.

The policy follows current guidance: a minimum length, a generous maximum (only to
bound the hashing work), no composition rules, and a check against passwords that
attackers try first: common ones, and the ones guessable from the context (the
e-mail address, the portal or city name). Passwords are taken exactly as typed;
nothing is trimmed or normalised, so what the person typed is what unlocks the
account.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 1024
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"

# Problem codes; the web layer turns them into translated messages.
TOO_SHORT = "too_short"
TOO_LONG = "too_long"
COMMON = "common"
CONTEXTUAL = "contextual"

# What people wrap around a weak word to satisfy old composition rules ("Sommer2024!").
_DECORATION = re.compile(r"^[\d\W_]*(.*?)[\d\W_]*$", re.UNICODE)
_PORTAL_WORDS = ("meinzwilling", "monjumeau", "zwilling", "jumeau", "twin", "mytwin")


@cache
def hasher() -> PasswordHasher:
    """The one Argon2id configuration of the node (created on first use)."""
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)


@cache
def _dummy_hash() -> str:
    return hasher().hash("not the password of anyone: equalises response time")


@cache
def common_passwords() -> frozenset[str]:
    """The list of common passwords, read once on first use, lower-cased."""
    text = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8")
    return frozenset(
        line.strip().casefold() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hasher().hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; a malformed stored hash counts as a mismatch."""

    def _verify() -> bool:
        try:
            return hasher().verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(_verify)


async def burn_verification(password: str) -> None:
    """Spend the time of one verification for an unknown account, so that response
    time does not tell an attacker whether an address is registered."""
    await verify_password(_dummy_hash(), password)


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash predates the current parameters (upgraded at login)."""
    try:
        return hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def password_problems(password: str, context: Iterable[str] = ()) -> list[str]:
    """Problem codes for a new password (empty: acceptable).

    ``context`` holds words an attacker would try for this account: the e-mail
    address, the display name, the portal and city names.
    """
    if len(password) < MIN_LENGTH:
        return [TOO_SHORT]
    if len(password) > MAX_LENGTH:
        return [TOO_LONG]
    folded = password.casefold()
    core = _core(folded)
    common = common_passwords()
    if folded in common or (core in common and (len(folded) - len(core) <= 6 or len(folded) < 12)):
        return [COMMON]
    if len(set(folded)) <= 2 or _is_sequence(folded) or _looks_like_date(folded):
        return [COMMON]
    if _guessable_from(folded, core, context):
        return [CONTEXTUAL]
    return []


def _core(folded: str) -> str:
    match = _DECORATION.match(folded)
    return match.group(1) if match else folded


def _is_sequence(folded: str) -> bool:
    """Runs like "12345678", "abcdefgh" or "98765432" (each step +1 or -1)."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(folded)}
    return steps in ({1}, {-1})


def _looks_like_date(folded: str) -> bool:
    """Birthdays and anniversaries: 8 digits read as DDMMYYYY, MMDDYYYY or YYYYMMDD."""
    if not (folded.isdigit() and len(folded) == 8):
        return False
    for day, month, year in (
        (folded[:2], folded[2:4], folded[4:]),
        (folded[2:4], folded[:2], folded[4:]),
        (folded[6:], folded[4:6], folded[:4]),
    ):
        if 1 <= int(day) <= 31 and 1 <= int(month) <= 12 and 1900 <= int(year) <= 2099:
            return True
    return False


def _guessable_from(folded: str, core: str, context: Iterable[str]) -> bool:
    words: set[str] = set(_PORTAL_WORDS)
    for item in context:
        item = item.casefold().strip()
        if not item:
            continue
        words.add(item)
        if "@" in item:
            local, _, domain = item.partition("@")
            words.update({local, domain.split(".")[0]})
        words.update(part for part in re.split(r"[\s._@+-]+", item) if len(part) >= 4)
    squeezed = re.sub(r"[\s._-]+", "", core)
    rest = squeezed
    for word in sorted(words, key=len, reverse=True):
        if len(word) < 4:
            continue
        plain = re.sub(r"[\s._-]+", "", word)
        if folded == word or core == word or squeezed == plain:
            return True
        # The whole e-mail address inside the password is never a good idea.
        if "@" in word and word in folded:
            return True
        rest = rest.replace(plain, "")
    # Nothing left once the names are taken out: "Schmidt-Anna", "annaschmidt85".
    return rest != squeezed and len(rest) < 4
