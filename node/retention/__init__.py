"""Erasure and retention: what a deleted account leaves behind on either node is
removed at once (:mod:`.erasure`); everything else is kept only as long as the
``[retention]`` periods say (:mod:`.purge`, run by :mod:`.worker`)."""
