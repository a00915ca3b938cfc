"""Pure matching library: taxonomy, the shared interest vector, anonymisation, scoring.

No I/O and no imports from ``node`` or ``web``: both nodes of a pair must be able
to run exactly this code over exactly the same vectors and reach the same answer.
"""
