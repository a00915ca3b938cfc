"""The partner cities' vectors on this node: what arrives, how it is checked and kept,
and the resync.

A vector arrives in an ``Update`` or leaves in a ``Delete`` through the inbox
(``handlers``), or comes with a peer's whole set (``sync``, applied by
``reconcile``). Whatever the way, it is checked in ``arrival`` (the shape, the
origin, the integrity proof) and kept by the ordering rules of ``store``. This
node's own residents' vectors, going the other way, are :mod:`node.vectors`.
"""
