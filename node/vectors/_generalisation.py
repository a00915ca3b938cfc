"""k-anonymity by generalisation, kept up to date one resident at a time.

:func:`matching.anonymise.generalise` is the reference: it needs the whole published
population at once, which at city scale costs a minute, far too long for every saved
profile. This index gives the same result incrementally.

Every rule there is a tree of keys in which each key has exactly one parent: a field's
values within a kind (an interest and its taxonomy parent, a language-level pair and its
weaker level), and the combinations of quasi-identifiers within a kind (occupation, age
band, language pairs; see ``matching.anonymise.combination_parent``). The index keeps,
per tree, who holds each key; a key is *common* when at least ``k`` residents arrive at
it (hold it, or hold a rare key below it that climbs to it), and a resident's key climbs
until it reaches a common one or runs out of parents. A resident's combination is the
one of their per-value result; a resident whose combination runs out of parents is
withheld.

Only keys on the paths of a changed resident's old and new keys can change between
common and rare, and a key that flips has about ``k`` residents arriving at it, so a
change touches the changed resident plus a few times ``k`` others in the value trees,
whose combinations may move in turn, touching a few times ``k`` more: that is the set
:meth:`Generaliser.update` returns, and only those need republishing. Verdicts are
remembered between changes and forgotten only along the changed paths, because a key's
verdict depends on nothing but the keys below it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from matching.anonymise import Combination, combination_parent, language_parent
from matching.languages import coarse_languages
from matching.occupations import Occupations
from matching.profile import InterestProfile
from matching.taxonomy import Taxonomy

Node = tuple[str, Any]
"""A key within a kind: ``(kind, value)``."""

ValueParent = Callable[[Any], Any]
FIELDS = ("interests", "occupation", "age_band", "children", "spoken", "learning")


def _no_parent(_value: object) -> None:
    return None


def raw_values(
    profile: InterestProfile, taxonomy: Taxonomy, occupations: Occupations
) -> dict[str, frozenset[Any]]:
    """The values of a profile per field, normalised exactly as ``generalise`` does
    (spoken languages as ``(code, wire level)`` pairs)."""
    occupation = occupations.normalise(profile.occupation) if profile.occupation else None
    return {
        "interests": frozenset(c for c in map(taxonomy.normalise, profile.interests) if c),
        "occupation": frozenset({occupation} if occupation else ()),
        "age_band": frozenset({profile.age_band} if profile.age_band else ()),
        "children": frozenset(profile.children_age_bands),
        "spoken": frozenset(coarse_languages(profile.languages).items()),
        "learning": frozenset(profile.learning),
    }


def _within_kind(parent: ValueParent) -> Callable[[Node], Node | None]:
    def parent_node(node: Node) -> Node | None:
        up = parent(node[1])
        return None if up is None else (node[0], up)

    return parent_node


@dataclass
class _Tree:
    """One tree of keys: who holds which key, and which keys lead up to which."""

    parent: Callable[[Node], Node | None]
    holders: dict[Node, set[int]] = field(default_factory=dict)
    children: dict[Node, set[Node]] = field(default_factory=dict)

    def add(self, resident: int, key: Node) -> None:
        self.holders.setdefault(key, set()).add(resident)
        child, ancestor = key, self.parent(key)
        while ancestor is not None:
            self.children.setdefault(ancestor, set()).add(child)
            child, ancestor = ancestor, self.parent(ancestor)

    def remove(self, resident: int, key: Node) -> None:
        held = self.holders.get(key)
        if held is not None:
            held.discard(resident)

    def path(self, key: Node) -> list[Node]:
        nodes = [key]
        ancestor = self.parent(key)
        while ancestor is not None:
            nodes.append(ancestor)
            ancestor = self.parent(ancestor)
        return nodes


class _Judge:
    """Common-or-rare verdicts of one tree, remembered until :meth:`forget`."""

    def __init__(self, tree: _Tree, k: int) -> None:
        self.tree = tree
        self.k = k
        self.memo: dict[Node, frozenset[int] | None] = {}

    def arrivals(self, key: Node) -> frozenset[int] | None:
        """Who arrives at ``key`` if it is rare; None if it is common (≥ k arrive)."""
        if key in self.memo:
            return self.memo[key]
        holders = self.tree.holders.get(key, set())
        result: frozenset[int] | None = None
        if len(holders) < self.k:
            found = set(holders)
            for child in self.tree.children.get(key, ()):
                below = self.arrivals(child)
                if below is not None:
                    found |= below
                    if len(found) >= self.k:
                        break
            result = frozenset(found) if len(found) < self.k else None
        self.memo[key] = result
        return result

    def climb(self, key: Node) -> Node | None:
        node: Node | None = key
        while node is not None and self.arrivals(node) is not None:
            node = self.tree.parent(node)
        return node

    def forget(self, keys: Iterable[Node]) -> None:
        """Drop the verdicts of keys whose subtree changed (the paths of moved keys)."""
        for key in keys:
            self.memo.pop(key, None)


class _IndexedTree:
    """A tree with its judge: moving residents between keys reports whom it touched."""

    def __init__(self, parent: Callable[[Node], Node | None], k: int) -> None:
        self.tree = _Tree(parent)
        self.judge = _Judge(self.tree, k)

    def move(self, moves: Iterable[tuple[int, Iterable[Node], Iterable[Node]]]) -> set[int]:
        """Apply ``(resident, old keys, new keys)`` moves; return the residents arriving
        at every key whose verdict flipped (before or after)."""
        listed = [(r, list(old), list(new)) for r, old, new in moves]
        paths = {
            node for _, old, new in listed for key in old + new for node in self.tree.path(key)
        }
        before = {node: self.judge.arrivals(node) for node in paths}
        for resident, old, new in listed:
            for key in old:
                self.tree.remove(resident, key)
            for key in new:
                self.tree.add(resident, key)
        self.judge.forget(paths)
        touched: set[int] = set()
        for node in paths:
            was, now = before[node], self.judge.arrivals(node)
            if (was is None) != (now is None):
                touched |= (was or frozenset()) | (now or frozenset())
        return touched


class Generaliser:
    """The generalised vector of every resident of a population, kept current."""

    def __init__(self, k: int, taxonomy: Taxonomy, occupations: Occupations) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        self.k = k
        self.taxonomy = taxonomy
        self.occupations = occupations
        parents: Mapping[str, ValueParent] = {
            "interests": taxonomy.parent,
            "occupation": occupations.parent,
            "spoken": language_parent,
        }
        self.fields = {
            name: _IndexedTree(_within_kind(parents.get(name, _no_parent)), k) for name in FIELDS
        }
        self.combinations = _IndexedTree(_within_kind(combination_parent), k)
        self.profiles: dict[int, InterestProfile] = {}
        self.values: dict[int, dict[str, frozenset[Any]]] = {}
        self.keys: dict[int, Node] = {}
        """Each resident's combination (of their per-value result) in ``combinations``."""

    def load(self, residents: Iterable[tuple[int, InterestProfile]]) -> None:
        """Add many residents at once (building the index); nothing is compared."""
        for resident, profile in residents:
            self._put(resident, profile)
        for indexed in (*self.fields.values(), self.combinations):
            indexed.judge = _Judge(indexed.tree, self.k)
        for resident in self.profiles:
            key = self._combination(resident)
            if self.keys.get(resident) != key:
                if resident in self.keys:
                    self.combinations.tree.remove(resident, self.keys[resident])
                self.combinations.tree.add(resident, key)
                self.keys[resident] = key
        self.combinations.judge = _Judge(self.combinations.tree, self.k)

    def _nodes(self, kind: str, values: frozenset[Any]) -> list[Node]:
        return [(kind, value) for value in values]

    def _put(self, resident: int, profile: InterestProfile | None) -> None:
        old_kind = self.profiles[resident].kind if resident in self.profiles else ""
        for name, held_before in self.values.pop(resident, {}).items():
            for node in self._nodes(old_kind, held_before):
                self.fields[name].tree.remove(resident, node)
        self.profiles.pop(resident, None)
        if profile is None:
            return
        values = raw_values(profile, self.taxonomy, self.occupations)
        for name, held in values.items():
            for node in self._nodes(profile.kind, held):
                self.fields[name].tree.add(resident, node)
        self.values[resident] = values
        self.profiles[resident] = profile

    def update(self, resident: int, profile: InterestProfile | None) -> set[int]:
        """Set (or, with None, remove) one resident's raw profile; return every resident
        whose generalised vector may have changed (always including ``resident``)."""
        old_kind = self.profiles[resident].kind if resident in self.profiles else ""
        old = self.values.pop(resident, {})
        self.profiles.pop(resident, None)
        new = raw_values(profile, self.taxonomy, self.occupations) if profile else {}
        new_kind = profile.kind if profile else ""
        if profile is not None:
            self.profiles[resident] = profile
            self.values[resident] = new
        touched = {resident}
        for name in FIELDS:
            before = self._nodes(old_kind, old.get(name, frozenset()))
            after = self._nodes(new_kind, new.get(name, frozenset()))
            touched |= self.fields[name].move([(resident, before, after)])
        moves: list[tuple[int, list[Node], list[Node]]] = []
        for other in sorted(touched):
            was = self.keys.pop(other, None)
            now = self._combination(other) if other in self.profiles else None
            if now is not None:
                self.keys[other] = now
            if was != now:
                moves.append((other, [] if was is None else [was], [] if now is None else [now]))
        touched |= self.combinations.move(moves)
        return {r for r in touched if r in self.profiles} | {resident}

    def _kept(self, resident: int) -> dict[str, set[Any]]:
        """The resident's values after the per-value rule (climbed or dropped)."""
        kind = self.profiles[resident].kind
        kept: dict[str, set[Any]] = {}
        for name, values in self.values[resident].items():
            judge = self.fields[name].judge
            kept[name] = {
                node[1] for value in values if (node := judge.climb((kind, value))) is not None
            }
        return kept

    def _combination(self, resident: int) -> Node:
        kept = self._kept(resident)
        combination: Combination = (
            next(iter(kept["occupation"]), None),
            next(iter(kept["age_band"]), None),
            tuple(sorted(kept["spoken"])),
        )
        return self.profiles[resident].kind, combination

    def generalised(self, resident: int) -> InterestProfile | None:
        """The resident's vector as it may be published, or None if not in the index or
        withheld (their combination is rare even with nothing left in it)."""
        profile = self.profiles.get(resident)
        if profile is None:
            return None
        published = self.combinations.judge.climb(self.keys[resident])
        if published is None:
            return None
        occupation, band, pairs = published[1]
        kept = self._kept(resident)
        return dataclasses.replace(
            profile,
            interests=tuple(sorted(kept["interests"])),
            occupation=occupation,
            languages=dict(pairs),
            learning=tuple(sorted(kept["learning"])),
            age_band=band,
            children_age_bands=tuple(
                dict.fromkeys(b for b in profile.children_age_bands if b in kept["children"])
            ),
        )

    def withheld(self) -> list[int]:
        """Residents in the index whose combination stays rare at the root."""
        return sorted(
            r for r, key in self.keys.items() if self.combinations.judge.climb(key) is None
        )
