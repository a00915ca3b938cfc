"""k-anonymity by generalisation, kept up to date one resident at a time.

:func:`matching.anonymise.generalise` is the reference: it needs the whole published
population at once, which at city scale costs a minute, far too long for every saved
profile. This index gives the same result incrementally. It keeps, per field, who
holds each raw value; a value is *common* when at least ``k`` residents arrive at it
(hold it, or hold a rare value below it that climbs to it), and a resident's value
climbs until it reaches a common one or runs out of parents.

Only nodes on the paths of a changed resident's old and new values can change between
common and rare, and a node that flips has about ``k`` residents arriving at it, so a
change touches the changed resident plus a few times ``k`` others: that is the set
:meth:`Generaliser.update` returns, and only those need republishing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from matching.occupations import Occupations
from matching.profile import InterestProfile
from matching.taxonomy import Taxonomy

ParentOf = Callable[[str], "str | None"]
FIELDS = ("interests", "occupation", "age_band", "children", "spoken", "learning")


def _no_parent(_value: str) -> str | None:
    return None


def raw_values(
    profile: InterestProfile, taxonomy: Taxonomy, occupations: Occupations
) -> dict[str, frozenset[str]]:
    """The values of a profile per field, normalised exactly as ``generalise`` does."""
    occupation = occupations.normalise(profile.occupation) if profile.occupation else None
    return {
        "interests": frozenset(c for c in map(taxonomy.normalise, profile.interests) if c),
        "occupation": frozenset({occupation} if occupation else ()),
        "age_band": frozenset({profile.age_band} if profile.age_band else ()),
        "children": frozenset(profile.children_age_bands),
        "spoken": frozenset(profile.languages),
        "learning": frozenset(profile.learning),
    }


@dataclass
class _Tree:
    """One field: who holds which value, and which values lead up to which."""

    parent: ParentOf
    holders: dict[str, set[int]] = field(default_factory=dict)
    children: dict[str, set[str]] = field(default_factory=dict)

    def add(self, resident: int, value: str) -> None:
        self.holders.setdefault(value, set()).add(resident)
        child, ancestor = value, self.parent(value)
        while ancestor is not None:
            self.children.setdefault(ancestor, set()).add(child)
            child, ancestor = ancestor, self.parent(ancestor)

    def remove(self, resident: int, value: str) -> None:
        held = self.holders.get(value)
        if held is not None:
            held.discard(resident)

    def path(self, value: str) -> list[str]:
        nodes = [value]
        ancestor = self.parent(value)
        while ancestor is not None:
            nodes.append(ancestor)
            ancestor = self.parent(ancestor)
        return nodes


class _Judge:
    """Common-or-rare verdicts for one state of the index (memoised; discard after a
    change)."""

    def __init__(self, tree: _Tree, k: int) -> None:
        self.tree = tree
        self.k = k
        self.memo: dict[str, frozenset[int] | None] = {}

    def arrivals(self, value: str) -> frozenset[int] | None:
        """Who arrives at ``value`` if it is rare; None if it is common (≥ k arrive)."""
        if value in self.memo:
            return self.memo[value]
        holders = self.tree.holders.get(value, set())
        result: frozenset[int] | None = None
        if len(holders) < self.k:
            found = set(holders)
            for child in self.tree.children.get(value, ()):
                below = self.arrivals(child)
                if below is not None:
                    found |= below
                    if len(found) >= self.k:
                        break
            result = frozenset(found) if len(found) < self.k else None
        self.memo[value] = result
        return result

    def climb(self, value: str) -> str | None:
        node: str | None = value
        while node is not None and self.arrivals(node) is not None:
            node = self.tree.parent(node)
        return node


class Generaliser:
    """The generalised vector of every resident of a population, kept current."""

    def __init__(self, k: int, taxonomy: Taxonomy, occupations: Occupations) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        self.k = k
        self.taxonomy = taxonomy
        self.occupations = occupations
        parents: Mapping[str, ParentOf] = {
            "interests": taxonomy.parent,
            "occupation": occupations.parent,
        }
        self.trees = {name: _Tree(parents.get(name, _no_parent)) for name in FIELDS}
        self.profiles: dict[int, InterestProfile] = {}
        self.values: dict[int, dict[str, frozenset[str]]] = {}
        self._judges: dict[str, _Judge] | None = None

    def _judge(self) -> dict[str, _Judge]:
        if self._judges is None:
            self._judges = {name: _Judge(tree, self.k) for name, tree in self.trees.items()}
        return self._judges

    def load(self, residents: Iterable[tuple[int, InterestProfile]]) -> None:
        """Add many residents at once (building the index); nothing is compared."""
        for resident, profile in residents:
            self._put(resident, profile)
        self._judges = None

    def _put(self, resident: int, profile: InterestProfile | None) -> None:
        for name, held_before in self.values.pop(resident, {}).items():
            for value in held_before:
                self.trees[name].remove(resident, value)
        self.profiles.pop(resident, None)
        if profile is None:
            return
        values = raw_values(profile, self.taxonomy, self.occupations)
        for name, held in values.items():
            for value in held:
                self.trees[name].add(resident, value)
        self.values[resident] = values
        self.profiles[resident] = profile

    def update(self, resident: int, profile: InterestProfile | None) -> set[int]:
        """Set (or, with None, remove) one resident's raw profile; return every resident
        whose generalised vector may have changed (always including ``resident``)."""
        old = self.values.get(resident, {})
        new = raw_values(profile, self.taxonomy, self.occupations) if profile else {}
        candidates = {
            name: {
                node
                for value in old.get(name, frozenset()) | new.get(name, frozenset())
                for node in self.trees[name].path(value)
            }
            for name in FIELDS
        }
        before = self._judge()
        verdicts = {
            name: {node: before[name].arrivals(node) for node in nodes}
            for name, nodes in candidates.items()
        }
        self._put(resident, profile)
        self._judges = None
        after = self._judge()
        affected = {resident}
        for name, nodes in candidates.items():
            for node in nodes:
                was, now = verdicts[name][node], after[name].arrivals(node)
                if (was is None) != (now is None):
                    affected |= (was or frozenset()) | (now or frozenset())
        return {r for r in affected if r in self.profiles} | {resident}

    def generalised(self, resident: int) -> InterestProfile | None:
        """The resident's vector as it may be published, or None if not in the index."""
        profile = self.profiles.get(resident)
        if profile is None:
            return None
        judges = self._judge()
        values = self.values[resident]
        kept = {
            name: {node for v in values[name] if (node := judges[name].climb(v)) is not None}
            for name in FIELDS
        }
        return dataclasses.replace(
            profile,
            interests=tuple(sorted(kept["interests"])),
            occupation=next(iter(kept["occupation"]), None),
            languages={
                code: level
                for code, level in sorted(profile.languages.items())
                if code in kept["spoken"]
            },
            learning=tuple(sorted(kept["learning"])),
            age_band=next(iter(kept["age_band"]), None),
            children_age_bands=tuple(
                dict.fromkeys(b for b in profile.children_age_bands if b in kept["children"])
            ),
        )
