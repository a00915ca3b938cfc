"""A vector as this node stores it (``published_vectors``, ``remote_profiles``): the
wire object without ``id``, which differs per peer. Both directions live here so that
what is written and what is read back agree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matching.profile import InterestProfile
from matching.wire import profile_to_json


def stored_form(profile: InterestProfile) -> dict[str, Any]:
    """The wire object without ``id`` and ``updated``: what is compared and stored."""
    wire = profile_to_json(profile)
    return {key: value for key, value in wire.items() if key not in ("id", "updated")}


def stored_profile(vector: Mapping[str, Any], actor: str, updated: str = "") -> InterestProfile:
    """A vector as stored here (validated when it was written) back as a profile."""
    return InterestProfile(
        id=actor,
        kind=vector["kind"],
        interests=tuple(vector.get("interests") or ()),
        occupation=vector.get("occupation"),
        languages=dict(vector.get("languages") or {}),
        learning=tuple(vector.get("learning") or ()),
        age_band=vector.get("ageBand"),
        children_age_bands=tuple(vector.get("childrenAgeBands") or ()),
        updated=updated or str(vector.get("updated") or ""),
    )
