"""This node's own residents' vectors, going out: generalised, signed, announced to
each peer under its pseudonyms and served as a signed set (``/vectors``). What the
partner cities send this way is :mod:`node.peer_vectors`.
"""
