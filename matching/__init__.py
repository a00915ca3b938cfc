"""Pure matching library: taxonomy, the shared interest vector, anonymisation, scoring.

No I/O and no imports from ``node`` or ``web``: both nodes of a pair must be able
to run exactly this code over exactly the same vectors and reach the same answer.

The two ways to match: the full run of a pair of cities (``matching.batch.match_pair``)
and the single-resident refresh between full runs (``matching.refresh.suggestions_for``
against a ``SideIndex``). Nothing is imported here, so that reading the taxonomy does
not load NumPy.
"""
