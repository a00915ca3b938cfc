"""Demo logins that arrive at the partner city as they were typed.

A demo login is only convincing if it meets its counterpart in the partner city
(``featured.COUNTERPARTS``); for that, its values must survive k-anonymity in a demo
city of a few hundred residents, which means that enough other residents of its kind
hold them. This module gives them those holders, without making any of them a
closer match than the counterpart.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from node.demo.population import DemoResident

_MAX_DEMO_INTERESTS = 12
_LOGIN_LEAD = 1  # a login shares this many interests more with its counterpart than with others


def _quasi_identifiers(resident: DemoResident) -> tuple[str | None, dict[str, str]]:
    return resident.profile.occupation, dict(resident.profile.languages)


def with_login_values(
    rng: random.Random, residents: list[DemoResident], min_holders: int
) -> list[DemoResident]:
    """Enough residents of each demo login's kind share its values for them to pass
    k-anonymity, so that the login is published as typed and meets its counterpart.

    Without this a city of a dozen clubs publishes both handball clubs as "sport"
    clubs, and Emily, whose languages few in Oldenburg share, is sent without any
    language and has no twin. Each interest gets holders of the same kind, none of
    them ending with as many of the login's interests as its counterpart has; and a
    few residents of the same kind and age band take on the login's occupation and
    languages, the combination that k residents must share."""

    def update(i: int, **changes: Any) -> None:
        residents[i] = replace(residents[i], profile=replace(residents[i].profile, **changes))

    for login in [r for r in residents if r.role == "login"]:
        wanted = set(login.profile.interests)
        kind = [i for i, r in enumerate(residents) if r.kind == login.kind and r.role is None]
        for code in login.profile.interests:
            holders = sum(code in residents[i].profile.interests for i in kind)
            free = [
                i
                for i in kind
                if code not in residents[i].profile.interests
                and len(wanted.intersection(residents[i].profile.interests)) + _LOGIN_LEAD
                < len(wanted)
                and len(residents[i].profile.interests) < _MAX_DEMO_INTERESTS
            ]
            rng.shuffle(free)
            for i in free[: max(0, min_holders - holders)]:
                update(i, interests=(*residents[i].profile.interests, code))
        band = [i for i in kind if residents[i].profile.age_band == login.profile.age_band]
        alike = [i for i in band if _quasi_identifiers(residents[i]) == _quasi_identifiers(login)]
        others = [i for i in band if i not in alike]
        rng.shuffle(others)
        for i in others[: max(0, min_holders - len(alike))]:
            update(
                i,
                occupation=login.profile.occupation,
                languages=dict(login.profile.languages),
                learning=login.profile.learning,
            )
    return residents
