"""The twins the demo's nodes will compute for the featured residents, worked out
without starting them, and the summary the demo prints.

Both nodes of a fresh demo start from known inputs: the same residents (``population``,
seeded in order, so resident ids 1, 2, …), the published demo secrets
(``configs.demo_secret``) and the addresses of the configs. Each node publishes its
residents generalised to its ``k`` under the pseudonym it derives for the partner, and
matches the two sides; this module does the same steps with the same library calls.
The README's example output is this summary for the shipped configs
(``tests/demo/test_readme_output.py``), and the demo's own test compares what the
running nodes print with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from matching.anonymise import generalise
from matching.batch import match_pair
from matching.languages import coarse_languages
from matching.occupations import load_occupations
from matching.profile import InterestProfile, Kind
from matching.taxonomy import load_taxonomy
from matching.wire import MAX_INTERESTS
from node.demo.configs import demo_secret
from node.demo.population import DEMO_PASSWORD, DemoResident, featured, population
from node.matches.state import match_settings
from node.pseudonyms import PATH_PREFIX, derive
from node.runtime.config import Config


@dataclass(frozen=True, slots=True)
class DemoSide:
    """One city as the summary names it: its config and its residents."""

    config: Config
    residents: Sequence[DemoResident]


def _raw_vector(number: int, resident: DemoResident) -> InterestProfile:
    """The vector a node encodes from a profile before generalising it: the same fields
    as ``node.vectors`` publishes (docs/protocol.md, section 3). The demo's own test
    compares the twins the running nodes find with this module's, so a difference
    between the two encodings would not go unnoticed."""
    profile, kind = resident.profile, cast(Kind, resident.kind)
    return InterestProfile(
        id=str(number),
        kind=kind,
        interests=tuple(sorted(set(profile.interests)))[:MAX_INTERESTS],
        occupation=(profile.occupation or None) and profile.occupation[:2],
        languages=coarse_languages(profile.languages),
        learning=tuple(sorted(set(profile.learning))),
        age_band=profile.age_band if kind in ("person", "school_class") else None,
        children_age_bands=tuple(profile.children_age_bands) if kind == "family" else (),
    )


def _published(
    side: DemoSide, partner: Config, secret: bytes
) -> dict[str, tuple[InterestProfile, DemoResident]]:
    """The side's profiles as its node sends them to ``partner``, by pseudonym actor URL."""
    raw = [_raw_vector(number, resident) for number, resident in enumerate(side.residents, 1)]
    generalised = generalise(
        raw, side.config.matching.k_anonymity, load_taxonomy(), occupations=load_occupations()
    )
    base = side.config.node.base_url
    sent: dict[str, tuple[InterestProfile, DemoResident]] = {}
    for number, (vector, resident) in enumerate(zip(generalised, side.residents, strict=True), 1):
        if vector is None:
            continue
        actor = f"{base}{PATH_PREFIX}{derive(secret, number, 0, partner.actor_url)}"
        fields = {name: getattr(vector, name) for name in InterestProfile.__dataclass_fields__}
        sent[actor] = (InterestProfile(**{**fields, "id": actor}), resident)
    return sent


def forecast_twins(first: Config, second: Config) -> dict[str, list[str]]:
    """Each featured resident's twins (display names, as the demo lists them) on a fresh
    demo with these two configs, keyed by e-mail address."""
    sides = [DemoSide(c, population(c.node.slug)) for c in (first, second)]
    sent = [
        _published(side, partner.config, demo_secret(side.config.node.slug).encode())
        for side, partner in ((sides[0], sides[1]), (sides[1], sides[0]))
    ]
    taxonomy = load_taxonomy()
    result = match_pair(
        [vector for vector, _ in sent[0].values()],
        [vector for vector, _ in sent[1].values()],
        codes=taxonomy.codes,
        parent=taxonomy.parent,
        settings=match_settings(first),
    )
    everyone = {**sent[0], **sent[1]}
    twins: dict[str, list[str]] = {}
    for side, published in zip(sides, sent, strict=True):
        for actor, (_, resident) in published.items():
            if resident.role is not None:
                twins[resident.email] = [
                    everyone[t.other_id][1].display_name for t in result.twins[actor]
                ]
        for resident in featured(side.residents):
            twins.setdefault(resident.email, [])
    return twins


def summary(sides: Sequence[DemoSide], twins: Mapping[str, Sequence[str]] | None) -> list[str]:
    """The lines the demo prints once both nodes are up: addresses, the mayors, logins.

    ``twins`` (by e-mail address) is None while matching has not settled."""
    lines = [""]
    labels = [f"{s.config.branding.portal_name} ({s.config.node.city}):" for s in sides]
    width = max(len(label) for label in labels)
    for side, label in zip(sides, labels, strict=True):
        lines.append(f"  {label:<{width}}  {side.config.node.base_url}/")
    lines.append("")
    mayors = [next(r for r in s.residents if r.role == "mayor") for s in sides]
    if twins is not None:
        lines.append(
            f"  Vectors exchanged and matched on both nodes: {mayors[0].display_name} "
            f"and {mayors[1].display_name} are twins."
        )
    else:
        lines.append(
            "  Matching is still running; twins appear on the pages within a minute or two."
        )
    lines.append("")
    lines.append(f"  Demo logins (the password of every demo account is {DEMO_PASSWORD}):")
    logins = [(s.config.node.city, r) for s in sides for r in featured(s.residents)]
    email_width = max(len(r.email) for _, r in logins)
    name_width = max(len(r.display_name) for _, r in logins)
    for city, resident in logins:
        names = (twins or {}).get(resident.email, [])
        line = (
            f"    {city:<10} {resident.language}  {resident.kind:<12} "
            f"{resident.email:<{email_width}}  {resident.display_name:<{name_width}}"
        )
        if twins is not None:
            line += f"  twin: {'; '.join(names)}" if names else "  no twin"
        lines.append(line.rstrip())
    return lines
