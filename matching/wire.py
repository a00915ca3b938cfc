"""The ``InterestProfile`` object as it travels between nodes.

Serialising is strict about what goes out: exactly the fields of
:class:`~matching.profile.InterestProfile`, nothing a node might have lying
around. Parsing is strict about shape (a malformed object is a faulty peer and
gets a 400) but forgiving about vocabulary: a peer on a newer taxonomy may
send codes this node does not know yet, and those fall back to a known parent
or are dropped instead of failing the whole update.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

from matching.languages import Languages, coarse_languages, coarse_level, coarse_rank
from matching.occupations import Occupations
from matching.profile import (
    CHILD_AGE_BANDS,
    GRADE_BANDS,
    KINDS,
    PERSON_AGE_BANDS,
    InterestProfile,
    Kind,
)
from matching.taxonomy import Taxonomy

PROFILE_TYPE = "InterestProfile"

MAX_INTERESTS = 20
"""How many interests a resident of this node may select."""

MAX_PEER_INTERESTS = 25
"""How many interests are accepted from a peer: some slack for a peer's own limit."""

MAX_PEER_LANGUAGES = 25
"""How many spoken or learning languages are accepted from a peer."""

MAX_VALUE_LENGTH = 64
"""Longest code, level, band or timestamp accepted; real ones are far shorter."""

MAX_ID_LENGTH = 512
"""Longest pseudonym actor URL accepted (a host plus a 64-hex-digit pseudonym fits easily)."""

AGE_BANDS_BY_KIND: Mapping[str, tuple[str, ...]] = {
    "person": PERSON_AGE_BANDS,
    "school_class": GRADE_BANDS,
    "family": (),
    "club": (),
}
"""Which age band each kind may carry: a decade for a person, a grade band for a school
class, none for a family (it gives its children's bands instead) or a club."""

_FIELDS = frozenset(
    {
        "type",
        "id",
        "kind",
        "interests",
        "occupation",
        "languages",
        "learning",
        "ageBand",
        "childrenAgeBands",
        "updated",
    }
)

_PERSONAL_KEY = re.compile(
    r"name|nick|mail|phone|^tel$|address|street|postal|zip|birth|^dob$|^age$|gender|sex"
    r"|religio|politic|health|ethnic|nationality|citizen|photo|image|icon|avatar|summary"
    r"|content|about|^bio|location|geo|latitude|longitude|school|club|url|attachment|contact"
)
"""Key names that suggest a peer is leaking what must never leave a node: names, contact
details, exact ages, special categories of personal data, places, free text and pictures.

Other unknown keys (``@context``, ``proof``, ``published``…) are JSON-LD and
ActivityStreams housekeeping and are ignored, so that a peer may add harmless
metadata without breaking older nodes.
"""


class ProfileFormatError(ValueError):
    """An incoming profile is malformed; the inbox answers 400 with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def profile_to_json(profile: InterestProfile) -> dict[str, Any]:
    """The wire object for ``profile``, with a fixed key order and sorted lists.

    Sorting here, not only in the dataclass, means two nodes produce the same
    bytes for the same profile, which keeps signatures and digests stable. Language
    levels leave as wire levels (``native``, ``fluent``, ``basic``) whatever the
    profile holds: a CEFR level never crosses.
    """
    return {
        "type": PROFILE_TYPE,
        "id": profile.id,
        "kind": profile.kind,
        "interests": sorted(set(profile.interests)),
        "occupation": profile.occupation,
        "languages": coarse_languages(profile.languages),
        "learning": sorted(set(profile.learning)),
        "ageBand": profile.age_band,
        "childrenAgeBands": [b for b in CHILD_AGE_BANDS if b in profile.children_age_bands],
        "updated": profile.updated,
    }


def _looks_personal(key: str) -> bool:
    return bool(_PERSONAL_KEY.search(re.sub(r"[^a-z]", "", key.lower())))


def _short_string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ProfileFormatError(f"{where} must be a string")
    if len(value) > MAX_VALUE_LENGTH:
        raise ProfileFormatError(f"{where} is longer than {MAX_VALUE_LENGTH} characters")
    return value


def _string_list(obj: Mapping[str, Any], key: str, limit: int) -> list[str]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise ProfileFormatError(f"{key} must be a list")
    if len(value) > limit:
        raise ProfileFormatError(f"{key} has {len(value)} entries, at most {limit} are accepted")
    return [_short_string(item, f"{key}[{i}]") for i, item in enumerate(value)]


def _optional_string(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return None if value is None else _short_string(value, key)


def _actor_id(obj: Mapping[str, Any]) -> str:
    value = obj.get("id")
    if not isinstance(value, str):
        raise ProfileFormatError("id must be a string")
    if len(value) > MAX_ID_LENGTH:
        raise ProfileFormatError(f"id is longer than {MAX_ID_LENGTH} characters")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ProfileFormatError("id must be an absolute http(s) URL") from None
    if (
        parts.scheme not in ("https", "http")
        or not parts.netloc
        or not value.isprintable()
        or " " in value
    ):
        raise ProfileFormatError("id must be an absolute http(s) URL")
    return value


def _kind(obj: Mapping[str, Any]) -> str:
    kind = _short_string(obj.get("kind"), "kind")
    if kind not in KINDS:
        raise ProfileFormatError(f"unknown kind {kind!r}")
    return kind


def _age_band(obj: Mapping[str, Any], kind: str) -> str | None:
    band = _optional_string(obj, "ageBand")
    if band is None:
        return None
    if band not in PERSON_AGE_BANDS and band not in GRADE_BANDS:
        raise ProfileFormatError(f"unknown ageBand {band!r}")
    if band not in AGE_BANDS_BY_KIND[kind]:
        raise ProfileFormatError(f"ageBand {band!r} does not fit kind {kind!r}")
    return band


def _children_age_bands(obj: Mapping[str, Any], kind: str) -> tuple[str, ...]:
    bands = _string_list(obj, "childrenAgeBands", len(CHILD_AGE_BANDS))
    for band in bands:
        if band not in CHILD_AGE_BANDS:
            raise ProfileFormatError(f"unknown childrenAgeBands entry {band!r}")
    if bands and kind != "family":
        raise ProfileFormatError("only a family may give childrenAgeBands")
    return tuple(b for b in CHILD_AGE_BANDS if b in bands)


def _updated(obj: Mapping[str, Any]) -> str:
    value = _short_string(obj.get("updated", ""), "updated")
    if value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ProfileFormatError("updated must be an ISO 8601 timestamp") from None
        if moment.tzinfo is None:
            raise ProfileFormatError("updated must carry a time zone")
    return value


def _spoken(obj: Mapping[str, Any], languages: Languages) -> tuple[dict[str, str], int]:
    """Codes normalised as elsewhere; a CEFR level (an older peer) becomes its wire
    level and counts as changed, like a normalised code."""
    value = obj.get("languages", {})
    if not isinstance(value, dict):
        raise ProfileFormatError("languages must be an object")
    if len(value) > MAX_PEER_LANGUAGES:
        raise ProfileFormatError(f"languages has more than {MAX_PEER_LANGUAGES} entries")
    spoken: dict[str, str] = {}
    changed = 0
    for raw_code, raw_level in value.items():
        tag = _short_string(raw_code, "languages key")
        given = _short_string(raw_level, f"languages[{tag!r}]")
        level = coarse_level(given)
        if level is None:
            raise ProfileFormatError(
                f"languages[{tag!r}]: {given!r} is not a language level (native, fluent, basic)"
            )
        changed += level != given
        code = languages.normalise(tag)
        changed += code != tag
        if code is not None:
            if code in spoken and coarse_rank(spoken[code]) >= coarse_rank(level):
                continue
            spoken[code] = level
    return dict(sorted(spoken.items())), changed


def profile_from_json(
    obj: object,
    taxonomy: Taxonomy,
    occupations: Occupations,
    languages: Languages,
) -> tuple[InterestProfile, int]:
    """Validate a peer's ``InterestProfile`` object.

    Returns the profile and how many codes (interests, occupation, languages)
    were unknown and had to fall back to a known parent or be dropped, or were
    CEFR levels mapped to their wire level, so the caller can notice a peer running
    a different taxonomy or protocol version.
    Raises :class:`ProfileFormatError` for anything malformed.
    """
    if not isinstance(obj, dict):
        raise ProfileFormatError("an InterestProfile must be a JSON object")
    for key in obj:
        if not isinstance(key, str):
            raise ProfileFormatError("keys must be strings")
        if key not in _FIELDS and _looks_personal(key):
            raise ProfileFormatError(f"{key!r} looks like personal data and is not accepted")
    if obj.get("type") != PROFILE_TYPE:
        raise ProfileFormatError(f"type must be {PROFILE_TYPE!r}")

    actor_id = _actor_id(obj)
    kind = _kind(obj)
    changed = 0

    interests: set[str] = set()
    for code in _string_list(obj, "interests", MAX_PEER_INTERESTS):
        known = taxonomy.normalise(code)
        changed += known != code
        if known is not None:
            interests.add(known)

    occupation = _optional_string(obj, "occupation")
    if occupation is not None:
        known_occupation = occupations.normalise(occupation)
        changed += known_occupation != occupation
        occupation = known_occupation

    spoken, spoken_changed = _spoken(obj, languages)
    changed += spoken_changed

    learning: set[str] = set()
    for tag in _string_list(obj, "learning", MAX_PEER_LANGUAGES):
        learnt = languages.normalise(tag)
        changed += learnt != tag
        if learnt is not None:
            learning.add(learnt)

    profile = InterestProfile(
        id=actor_id,
        kind=cast(Kind, kind),
        interests=tuple(sorted(interests)),
        occupation=occupation,
        languages=spoken,
        learning=tuple(sorted(learning)),
        age_band=_age_band(obj, kind),
        children_age_bands=_children_age_bands(obj, kind),
        updated=_updated(obj),
    )
    return profile, changed
