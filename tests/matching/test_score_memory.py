"""Score blocks' memory is handed on from block to block, never shared by two at once."""

from __future__ import annotations

import numpy as np

from matching._blocks import ScoreMemory


def test_a_block_reuses_the_memory_handed_back() -> None:
    memory = ScoreMemory()
    first = memory.take((2, 16, 64))
    memory.give(first)
    second = memory.take((1, 16, 32))
    assert second.shape == (1, 16, 32)
    assert np.shares_memory(first, second)


def test_blocks_in_flight_never_share_memory() -> None:
    memory = ScoreMemory()
    first = memory.take((1, 16, 64))
    second = memory.take((1, 16, 64))
    assert not np.shares_memory(first, second)
    memory.give(first)
    third = memory.take((1, 16, 64))
    assert np.shares_memory(first, third)
    assert not np.shares_memory(second, third)


def test_buffers_too_small_are_let_go_not_hoarded() -> None:
    """A larger class replaces a free buffer instead of adding to the free ones."""
    memory = ScoreMemory()
    small = [memory.take((1, 16, 32)) for _ in range(3)]
    for scores in small:
        memory.give(scores)
    large = memory.take((4, 16, 64))
    assert not any(np.shares_memory(large, scores) for scores in small)
    memory.give(large)
    held = [memory.take((1, 16, 32)) for _ in range(3)]
    assert sum(np.shares_memory(scores, large) for scores in held) == 1
    assert sum(any(np.shares_memory(s, old) for old in small) for s in held) == 2
