"""The anonymised interest vector, the only thing about a resident that leaves a node
before mutual consent.

Every field here is deliberately coarse; adding a field is a privacy decision, not a
refactoring, and both nodes of a pair must agree on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["person", "family", "club", "school_class"]
KINDS: tuple[Kind, ...] = ("person", "family", "club", "school_class")

CEFR_LEVELS: tuple[str, ...] = ("A1", "A2", "B1", "B2", "C1", "C2", "native")
"""What a resident enters and the node stores; never published as such."""

LANGUAGE_LEVELS: tuple[str, ...] = ("basic", "fluent", "native")
"""The levels a vector carries, weakest first: ``native``; ``fluent`` (B1 or better);
``basic`` (below B1). Exactly what the gates and the score distinguish, and no more:
a CEFR level would single out the one resident who wrote ``C1`` where everyone else
wrote ``B2``."""

# Age bands: a decade for persons, a grade band for school classes,
# children's bands for families, nothing for clubs.
PERSON_AGE_BANDS: tuple[str, ...] = (
    "10-19",
    "20-29",
    "30-39",
    "40-49",
    "50-59",
    "60-69",
    "70-79",
    "80+",
)
GRADE_BANDS: tuple[str, ...] = ("grades-1-4", "grades-5-6", "grades-7-9", "grades-10-13")
CHILD_AGE_BANDS: tuple[str, ...] = ("0-5", "6-11", "12-17")


@dataclass(frozen=True, slots=True)
class InterestProfile:
    """One resident as a peer sees them: a pseudonym and coarse codes, nothing more.

    ``id`` is the pseudonym actor URL on the owning node. ``interests`` and
    ``learning`` are kept sorted so that two nodes serialise and score identically.
    """

    id: str
    kind: Kind
    interests: tuple[str, ...] = ()
    occupation: str | None = None
    languages: Mapping[str, str] = field(default_factory=dict)
    learning: tuple[str, ...] = ()
    age_band: str | None = None
    children_age_bands: tuple[str, ...] = ()
    updated: str = ""
