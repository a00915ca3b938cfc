"""Exposure caps: the spread lists are the unique stable outcome, capped, and the same
however they are computed; the whole match respects the caps in both directions."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.batch import match_pair
from matching.exposure import exposure_cap, spread
from matching.profile import InterestProfile
from matching.score import rarity_weights, score_units
from matching.settings import MatchSettings
from matching.tuning import TWIN_CHOICES
from matching.twin import Choices
from tests.matching.residents import CODES, parent, population
from tests.matching.test_twin import FromMatrix, random_market


def reference(
    p: np.ndarray, h: np.ndarray, units: np.ndarray, owners: int, quota: int, cap: int
) -> set[tuple[int, int]]:
    """Textbook many-to-many deferred acceptance, one proposal at a time."""
    score = {(int(a), int(b)): int(u) for a, b, u in zip(p, h, units, strict=True)}
    lists = {
        a: sorted((b for (x, b) in score if x == a), key=lambda b: (-score[a, b], b))
        for a in range(owners)
    }
    held: dict[int, list[int]] = {}
    holding = {a: 0 for a in range(owners)}
    nxt = dict.fromkeys(range(owners), 0)
    free = list(range(owners))
    while free:
        a = free.pop()
        if holding[a] >= quota or nxt[a] >= len(lists[a]):
            continue
        b = lists[a][nxt[a]]
        nxt[a] += 1
        pool = [*held.get(b, []), a]
        pool.sort(key=lambda x: (-score[x, b], x))
        held[b] = pool[:cap]
        holding[a] += 1
        for x in pool[cap:]:
            holding[x] -= 1
            free.append(x)
        free.append(a)
    return {(a, b) for b, owners_of in held.items() for a in owners_of}


@settings(max_examples=50, deadline=None)
@given(
    st.integers(0, 10**6),
    st.integers(1, 30),
    st.integers(1, 12),
    st.floats(0.1, 0.9),
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(1, 5),
    st.integers(0, 4),
)
def test_spread_is_the_stable_outcome_whether_choices_come_whole_or_on_request(
    seed: int,
    owners: int,
    others: int,
    density: float,
    levels: int,
    quota: int,
    cap: int,
    first: int,
) -> None:
    p, h, units = random_market(seed, owners, others, density, levels)
    order = np.lexsort((h, -units, p))
    p, h, units = p[order], h[order], units[order]
    expected = reference(p, h, units, owners, quota, cap)
    rank = np.arange(p.size) - np.searchsorted(p, p)
    given_first = rank < first
    complete = np.bincount(p[given_first], minlength=owners) == np.bincount(p, minlength=owners)
    got = spread(
        Choices(p[given_first], h[given_first], units[given_first]),
        owners,
        others,
        quota,
        cap,
        complete=complete,
        more=FromMatrix(p, h, units, others),
    )
    assert set(zip(got.proposer.tolist(), got.hospital.tolist(), strict=True)) == expected
    assert np.bincount(got.hospital, minlength=others).max(initial=0) <= cap
    assert np.bincount(got.proposer, minlength=owners).max(initial=0) <= quota


def test_caps_hold_both_ways_and_the_lists_are_stable() -> None:
    side_a = population("oldenburg", 150, 21)
    side_b = population("cholet", 50, 21)
    match = MatchSettings(exposure_factor=1.0)
    result = match_pair(side_a, side_b, codes=CODES, parent=parent, settings=match)
    weights = rarity_weights(side_a + side_b, CODES, parent)
    index = {r.id: i for i, r in enumerate(sorted(side_a + side_b, key=lambda r: r.id))}

    def units(a: InterestProfile, b: InterestProfile) -> int:
        return score_units(a, b, weights, match.kind_gates)

    # The larger side may ask for more than its candidate list; the smaller side
    # chooses within its list (tuning.TWIN_CHOICES long).
    for owners, others, reach in ((side_a, side_b, None), (side_b, side_a, TWIN_CHOICES)):
        cap = exposure_cap(len(owners), len(others), match.top_k, 1.0)
        by_id = {o.id: o for o in others}
        held: dict[str, list[tuple[int, int]]] = {o.id: [] for o in others}
        for owner in owners:
            for s in result.suggestions[owner.id]:
                held[s.other_id].append((units(owner, by_id[s.other_id]), -index[owner.id]))
        assert max(len(h) for h in held.values()) == cap  # the cap binds, and holds
        for owner in owners:
            mine = [
                (units(owner, by_id[s.other_id]), -index[s.other_id])
                for s in result.suggestions[owner.id]
            ]
            assert mine == sorted(mine, reverse=True)
            listed = {s.other_id for s in result.suggestions[owner.id]}
            ranked = sorted(
                (o for o in others if units(owner, o) > 0),
                key=lambda o: (-units(owner, o), index[o.id]),
            )
            for other in ranked[:reach]:
                pair = units(owner, other)
                if pair <= 0 or other.id in listed:
                    continue
                owner_wants = len(mine) < match.top_k or (pair, -index[other.id]) > min(mine)
                other_wants = len(held[other.id]) < cap or (pair, -index[owner.id]) > min(
                    held[other.id]
                )
                assert not (owner_wants and other_wants), (owner.id, other.id)


def test_spread_lists_do_not_depend_on_order_or_side() -> None:
    side_a = population("oldenburg", 90, 22)
    side_b = population("cholet", 30, 22)
    match = MatchSettings(exposure_factor=1.0)
    result = match_pair(side_a, side_b, codes=CODES, parent=parent, settings=match)
    shuffled_a, shuffled_b = side_a[:], side_b[:]
    random.Random(3).shuffle(shuffled_a)
    random.Random(4).shuffle(shuffled_b)
    again = match_pair(shuffled_b, shuffled_a, codes=CODES, parent=parent, settings=match)
    assert again == result
