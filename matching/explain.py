"""Why two residents were suggested to each other, in the viewer's language.

An explanation is built from the two shared interest vectors only, never from
anything the viewer's node knows locally: the other node shows the same pair,
and what one side reads as a reason must be something the other side published.
The language and tandem rules come from :mod:`matching.gates`, so an
explanation can never name a language the gates did not count.
"""

from __future__ import annotations

from dataclasses import dataclass

from matching.gates import tandem_pairs, usable_languages
from matching.languages import Languages
from matching.occupations import Occupations
from matching.profile import InterestProfile
from matching.taxonomy import FALLBACK_LANGUAGE, Taxonomy

SEPARATOR = " · "
TANDEM_ARROW = " ⇄ "


@dataclass(frozen=True, slots=True)
class _Wording:
    colon: str
    both: str
    related: str
    one_language: str
    many_languages: str
    tandem: str
    occupation: str
    nothing: str


_WORDING: dict[str, _Wording] = {
    "en": _Wording(
        colon=": ",
        both="you both",
        related="related interests",
        one_language="you speak",
        many_languages="you speak",
        tandem="tandem",
        occupation="same field",
        nothing="Nothing in common on paper yet.",
    ),
    "de": _Wording(
        colon=": ",
        both="Sie beide",  # formal, as everywhere on the German pages
        related="verwandte Interessen",
        one_language="gemeinsame Sprache",
        many_languages="gemeinsame Sprachen",
        tandem="Tandem",
        occupation="gleiches Berufsfeld",
        nothing="Auf dem Papier noch nichts gemeinsam.",
    ),
    "fr": _Wording(
        # French typography: a narrow no-break space before the colon.
        colon="\u202f: ",
        both="vous deux",
        related="centres d'intérêt proches",
        one_language="langue commune",
        many_languages="langues communes",
        tandem="tandem",
        occupation="même domaine",
        nothing="Rien en commun sur le papier pour l'instant.",
    ),
}


@dataclass(frozen=True, slots=True)
class Explanation:
    """The parts of a suggestion's reason, as labels in one language, and one line of text.

    ``tandems`` holds ``(what the viewer offers, what the viewer learns)``.
    """

    shared_interests: tuple[str, ...]
    shared_categories: tuple[str, ...]
    common_languages: tuple[str, ...]
    tandems: tuple[tuple[str, str], ...]
    occupation: str | None
    text: str


def _known_interests(profile: InterestProfile, taxonomy: Taxonomy) -> set[str]:
    return {c for c in map(taxonomy.normalise, profile.interests) if c is not None}


def _shared_codes(
    viewer: InterestProfile, other: InterestProfile, taxonomy: Taxonomy
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Shared interest codes, and categories both touch without sharing an interest in them.

    A category that already has a shared interest is left out: "you both:
    choir" says more than "you both: choir · related interests: making music".
    """
    mine = _known_interests(viewer, taxonomy)
    theirs = _known_interests(other, taxonomy)
    shared = mine & theirs
    covered = {taxonomy.category(code) for code in shared}
    categories = (
        {taxonomy.category(c) for c in mine} & {taxonomy.category(c) for c in theirs}
    ) - covered
    return taxonomy.sort(shared), taxonomy.sort(categories)


def _compose(parts: list[tuple[str, str]], wording: _Wording) -> str:
    if not parts:
        return wording.nothing
    text = SEPARATOR.join(f"{title}{wording.colon}{values}" for title, values in parts)
    return text[0].upper() + text[1:]


def explain(
    viewer: InterestProfile,
    other: InterestProfile,
    lang: str,
    *,
    taxonomy: Taxonomy,
    occupations: Occupations,
    languages: Languages,
) -> Explanation:
    """What ``viewer`` and ``other`` have in common, worded for the viewer in ``lang``.

    ``lang`` is de, fr or en; any other language gets the English wording.
    """
    lang = lang if lang in _WORDING else FALLBACK_LANGUAGE
    wording = _WORDING[lang]

    interest_codes, category_codes = _shared_codes(viewer, other, taxonomy)
    shared_interests = tuple(taxonomy.label(c, lang) for c in interest_codes)
    shared_categories = tuple(taxonomy.label(c, lang) for c in category_codes)

    def language(code: str) -> str:
        return languages.label(code, lang) if languages.is_known(code) else code

    common_languages = tuple(language(c) for c in usable_languages(viewer, other))
    tandems = tuple((language(x), language(y)) for x, y in tandem_pairs(viewer, other))

    group = occupations.shared_group(viewer.occupation, other.occupation)
    occupation = occupations.label(group, lang) if group is not None else None

    parts: list[tuple[str, str]] = []
    if shared_interests:
        parts.append((wording.both, ", ".join(shared_interests)))
    if shared_categories:
        parts.append((wording.related, ", ".join(shared_categories)))
    if common_languages:
        title = wording.one_language if len(common_languages) == 1 else wording.many_languages
        parts.append((title, ", ".join(common_languages)))
    if tandems:
        parts.append((wording.tandem, ", ".join(f"{x}{TANDEM_ARROW}{y}" for x, y in tandems)))
    if occupation is not None:
        parts.append((wording.occupation, occupation))

    return Explanation(
        shared_interests=shared_interests,
        shared_categories=shared_categories,
        common_languages=common_languages,
        tandems=tandems,
        occupation=occupation,
        text=_compose(parts, wording),
    )
