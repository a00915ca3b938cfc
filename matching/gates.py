"""The gates: which pairs may be suggested at all, whatever their score.

A pair that fails a gate is not a candidate at all, whatever its score would be:
a club is never suggested to a family, and two residents who cannot talk to each
other are not suggested either. Every gate is symmetric, so that both nodes of a
pair, each calling with its own resident first, reach the same verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from matching.languages import coarse_level
from matching.profile import KINDS, InterestProfile

KindGates = Mapping[str, frozenset[str]]
"""For each kind, the kinds it may be matched with. Must be symmetric."""

DEFAULT_KIND_GATES: KindGates = MappingProxyType({kind: frozenset({kind}) for kind in KINDS})
"""Each kind fits only itself: person↔person, family↔family, club↔club, class↔class."""

USABLE_LEVEL = "fluent"
"""The lowest wire level at which a common language carries a conversation (CEFR B1)."""

NATIVE = "native"

_USABLE = frozenset({USABLE_LEVEL, NATIVE})


def kinds_fit(a_kind: str, b_kind: str, gates: KindGates = DEFAULT_KIND_GATES) -> bool:
    """Whether two kinds may be matched.

    Checked in both directions so that a lopsided configuration cannot make the
    two nodes disagree: a pair fits only if each side admits the other.
    """
    return b_kind in gates.get(a_kind, frozenset()) and a_kind in gates.get(b_kind, frozenset())


def usable_codes(languages: Mapping[str, str]) -> frozenset[str]:
    """The languages this resident can hold a conversation in (``fluent`` or ``native``).

    Levels are read through :func:`~matching.languages.coarse_level`, so a CEFR level
    (a resident's own page, an older peer) gives exactly the verdict of its wire level.
    """
    return frozenset(code for code, level in languages.items() if coarse_level(level) in _USABLE)


def native_codes(languages: Mapping[str, str]) -> frozenset[str]:
    """The languages this resident speaks natively."""
    return frozenset(code for code, level in languages.items() if level == NATIVE)


@dataclass(frozen=True, slots=True)
class Speaking:
    """What the language rules look at, worked out once per resident.

    Evaluating the gate against many residents then costs a few set intersections each
    instead of re-reading every level.
    """

    usable: frozenset[str]
    native: frozenset[str]
    learning: frozenset[str]

    @classmethod
    def of(cls, resident: InterestProfile) -> Speaking:
        return cls(
            usable_codes(resident.languages),
            native_codes(resident.languages),
            frozenset(resident.learning),
        )

    def has_tandem_with(self, other: Speaking) -> bool:
        """Each is native in a language the other learns (see :func:`tandem_pairs`)."""
        return bool(self.native & other.learning) and bool(other.native & self.learning)

    def shares_usable_with(self, other: Speaking) -> bool:
        return bool(self.usable & other.usable)


def usable_languages(a: InterestProfile, b: InterestProfile) -> tuple[str, ...]:
    """The languages both residents speak fluently or natively, sorted."""
    return tuple(sorted(usable_codes(a.languages) & usable_codes(b.languages)))


def tandem_pairs(a: InterestProfile, b: InterestProfile) -> tuple[tuple[str, str], ...]:
    """Language tandems ``(x, y)``: ``a`` teaches ``b`` language ``x``, ``b`` teaches ``a`` ``y``.

    A tandem needs both halves — each is native in a language the other is
    learning — because a one-sided exchange is tutoring, not a partnership.
    Sorted, so explanations read the same on both nodes.
    """
    a_teaches = native_codes(a.languages) & frozenset(b.learning)
    b_teaches = native_codes(b.languages) & frozenset(a.learning)
    return tuple(sorted((x, y) for x in a_teaches for y in b_teaches))


def language_gate(a: InterestProfile, b: InterestProfile) -> bool:
    """Whether the two can talk: a common usable language or a tandem."""
    sa, sb = Speaking.of(a), Speaking.of(b)
    return sa.shares_usable_with(sb) or sa.has_tandem_with(sb)


def passes_gates(a: InterestProfile, b: InterestProfile, kind_gates: KindGates) -> bool:
    """Whether the pair is a candidate at all."""
    return kinds_fit(a.kind, b.kind, kind_gates) and language_gate(a, b)
