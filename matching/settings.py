"""The knobs of a pair's matching, kept apart from the code because both nodes share them.

Two nodes that configure a pair differently compute different suggestions and twins for
the same residents, and each would show its own residents something the other never
computed. Everything that changes a result therefore lives here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matching.gates import DEFAULT_KIND_GATES, KindGates


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """What both nodes of a pair must configure identically."""

    kind_gates: KindGates = field(default_factory=lambda: DEFAULT_KIND_GATES)
    top_k: int = 10
    exposure_factor: float = 10.0
    """A profile sits in at most this many times the mean number of suggestion lists of
    the other city (``matching.exposure``); 0 lists everyone's best unconstrained."""
