"""A serving process freezes what it loaded: the garbage of loading is collected
first (frozen objects are never collected), and what lives on is out of the
collector's generations, so its full passes no longer walk it."""

from __future__ import annotations

import gc
import weakref

from node.runtime.heap import freeze_loaded_objects


class Loaded:
    """Stands for anything a node loads before serving (a module's objects, the app)."""

    me: Loaded | None = None


def test_the_garbage_is_collected_and_the_rest_frozen() -> None:
    alive = Loaded()
    garbage = Loaded()
    garbage.me = garbage  # a cycle: only the collector frees it
    gone = weakref.ref(garbage)
    del garbage
    try:
        frozen = freeze_loaded_objects()
        assert gone() is None, "garbage must not be frozen"
        assert frozen == gc.get_freeze_count() > 0
        assert not any(each is alive for each in gc.get_objects()), "alive must be frozen"
    finally:
        gc.unfreeze()
    assert any(each is alive for each in gc.get_objects())
