"""The privacy figures of a publication: how well what leaves hides each resident.

Pure: given the raw vectors of the residents who take part and the vectors a peer
holds of them, it counts what a data-protection officer asks about — how many
published residents share each combination of quasi-identifiers and each whole vector
(equivalence classes), which published values fewer than ``k`` residents of a kind
hold, and how many vectors had to be coarsened or were withheld.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matching.anonymise import combination_of
from matching.profile import InterestProfile
from matching.wire import profile_to_json

FIELDS = ("interests", "occupation", "languages", "learning", "age_band", "children_age_bands")
"""The fields whose values are counted, as named in ``InterestProfile``."""


@dataclass(frozen=True, slots=True)
class RareValue:
    """A published value fewer than ``k`` published residents of ``kind`` hold.

    ``value`` is the code as it travels (a language as ``de:fluent``)."""

    kind: str
    field: str
    value: str
    holders: int


@dataclass(frozen=True, slots=True)
class PrivacyFigures:
    """One peer's copy, counted.

    Class-size distributions map a class size to the number of *residents* in classes
    of that size (``{1: 3, 7: 14}``: three residents are alone, fourteen share with six
    others), because residents, not classes, are who can be singled out.
    """

    k: int
    residents: int
    """Residents who take part (raw vectors given)."""
    published: int
    """Residents the peer holds a vector of."""
    withheld: int
    """Residents who take part but whose vector does not leave."""
    generalised: int
    """Published residents whose vector differs from their raw (coarse-level) vector."""
    combination_classes: Mapping[int, int]
    """Class size → residents, over kind, occupation, age band and language pairs."""
    vector_classes: Mapping[int, int]
    """Class size → residents, over the whole vector (everything but the pseudonym)."""
    rare_values: tuple[RareValue, ...]

    @property
    def generalised_share(self) -> float:
        """Share of published residents whose vector had to be coarsened."""
        return self.generalised / self.published if self.published else 0.0

    @property
    def below_k_by_combination(self) -> int:
        """Published residents whose combination fewer than ``k`` share (0 when sound)."""
        return sum(n for size, n in self.combination_classes.items() if size < self.k)

    @property
    def unique_vectors(self) -> int:
        """Published residents whose whole vector nobody else's equals."""
        return self.vector_classes.get(1, 0)


def _content(profile: InterestProfile) -> str:
    wire = profile_to_json(profile)
    return json.dumps(
        {key: value for key, value in wire.items() if key not in ("id", "updated")},
        sort_keys=True,
    )


def _class_sizes(keys: Sequence[object]) -> dict[int, int]:
    counts = Counter(keys)
    sizes: Counter[int] = Counter()
    for size in counts.values():
        sizes[size] += size
    return dict(sorted(sizes.items()))


def _values(profile: InterestProfile) -> dict[str, list[str]]:
    return {
        "interests": list(profile.interests),
        "occupation": [profile.occupation] if profile.occupation else [],
        "languages": [f"{code}:{level}" for code, level in profile.languages.items()],
        "learning": list(profile.learning),
        "age_band": [profile.age_band] if profile.age_band else [],
        "children_age_bands": list(profile.children_age_bands),
    }


def _rare_values(published: Sequence[InterestProfile], k: int) -> tuple[RareValue, ...]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for profile in published:
        for field, values in _values(profile).items():
            for value in set(values):
                counts[(profile.kind, field, value)] += 1
    return tuple(
        RareValue(kind, field, value, holders)
        for (kind, field, value), holders in sorted(counts.items())
        if holders < k
    )


def privacy_figures(
    raw: Mapping[str, InterestProfile],
    published: Mapping[str, InterestProfile],
    k: int,
) -> PrivacyFigures:
    """The figures of one peer's copy.

    ``raw`` and ``published`` are keyed by the same resident key (the ids inside the
    profiles are ignored: a published vector carries a pseudonym). A published resident
    missing from ``raw`` (no longer taking part, not yet withdrawn) counts as published
    and generalised.
    """
    vectors = list(published.values())
    generalised = sum(
        1
        for key, profile in published.items()
        if key not in raw or _content(raw[key]) != _content(profile)
    )
    return PrivacyFigures(
        k=k,
        residents=len(raw),
        published=len(published),
        withheld=sum(1 for key in raw if key not in published),
        generalised=generalised,
        combination_classes=_class_sizes([(p.kind, combination_of(p)) for p in vectors]),
        vector_classes=_class_sizes([_content(p) for p in vectors]),
        rare_values=_rare_values(vectors, k),
    )
