"""The filters of "Find people", read from the address (a GET form), so that a filtered
list is a link one can keep or share.

Anybody can type anything into an address: a value that is not in the shipped lists
is dropped (and the page says that some were), never passed on and never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from matching.languages import load_languages
from matching.occupations import load_occupations
from matching.profile import CHILD_AGE_BANDS, GRADE_BANDS, PERSON_AGE_BANDS
from matching.taxonomy import load_taxonomy
from matching.wire import MAX_INTERESTS
from node.people.facets import Filters
from node.runtime.i18n import Translator
from web.forms.base import FormData, text, texts

MAX_PAGE = 100_000
AGE_BANDS = frozenset((*PERSON_AGE_BANDS, *GRADE_BANDS, *CHILD_AGE_BANDS))


@dataclass
class PeopleQuery:
    """The filters as asked for, the values to show in the form, and whether any value
    had to be dropped."""

    filters: Filters = field(default_factory=Filters)
    page: int = 1
    city: int | None = None
    dropped: bool = False

    @classmethod
    def parse(cls, query: FormData) -> PeopleQuery:
        taxonomy, languages, occupations = load_taxonomy(), load_languages(), load_occupations()
        result = cls()
        asked = [v for v in texts(query, "interest", limit=MAX_INTERESTS * 2) if v]
        interests = tuple(code for code in asked if taxonomy.is_known(code))[:MAX_INTERESTS]
        result.dropped = len(interests) != len(asked)

        def known(name: str, valid: Any) -> str | None:
            value = text(query, name).strip()
            if not value:
                return None
            if valid(value):
                return value
            result.dropped = True
            return None

        result.filters = Filters(
            interests=interests,
            speaks=known("speaks", languages.is_known),
            learns=known("learns", languages.is_known),
            age_band=known("age", AGE_BANDS.__contains__),
            occupation=known("occupation", lambda v: v in occupations.major_groups),
        )
        result.page = _number(text(query, "page"), 1, MAX_PAGE) or 1
        result.city = _number(text(query, "city"), 1, 2**31 - 1)
        return result

    def address(self, page: int | None = None) -> str:
        """This query as a local address, at another page if given."""
        pairs: list[tuple[str, Any]] = [("interest", code) for code in self.filters.interests]
        for name, value in (
            ("speaks", self.filters.speaks),
            ("learns", self.filters.learns),
            ("age", self.filters.age_band),
            ("occupation", self.filters.occupation),
            ("city", self.city),
        ):
            if value is not None:
                pairs.append((name, value))
        wanted = self.page if page is None else page
        if wanted > 1:
            pairs.append(("page", wanted))
        return "/people" + ("?" + urlencode(pairs) if pairs else "")


def _number(value: str, low: int, high: int) -> int | None:
    """ASCII digits within [low, high], else None ("²" and "1e9" are no page numbers)."""
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if low <= number <= high else None


def _capitalised(label: str) -> str:
    return label[:1].upper() + label[1:]


def options(t: Translator) -> dict[str, Any]:
    """Everything the filter form offers, labelled in the visitor's language."""
    lang = t.language
    taxonomy, languages, occupations = load_taxonomy(), load_languages(), load_occupations()
    _ = t.gettext

    def years(band: str) -> str:
        return _("%(band)s years") % {"band": band.replace("-", "–")}

    def interests(category: str) -> list[tuple[str, str]]:
        """The whole category first (it also finds rare interests published as it)."""
        whole = _("All of “%(category)s”") % {"category": taxonomy.label(category, lang)}
        labelled = [(c, _capitalised(taxonomy.label(c, lang))) for c in taxonomy.children(category)]
        items = sorted(labelled, key=lambda item: item[1].casefold())
        return [(category, whole), *items]

    return {
        "interests": [
            (_capitalised(taxonomy.label(category, lang)), interests(category))
            for category in sorted(
                taxonomy.categories, key=lambda code: taxonomy.label(code, lang).casefold()
            )
        ],
        "languages": sorted(
            ((code, _capitalised(languages.label(code, lang))) for code in languages.codes),
            key=lambda item: item[1].casefold(),
        ),
        "age_bands": [
            (_("People"), [(band, years(band)) for band in PERSON_AGE_BANDS]),
            (
                _("School classes"),
                [
                    (
                        band,
                        _("grades %(range)s")
                        % {"range": band.removeprefix("grades-").replace("-", "–")},
                    )
                    for band in GRADE_BANDS
                ],
            ),
            (_("Children in the family"), [(band, years(band)) for band in CHILD_AGE_BANDS]),
        ],
        "occupations": [
            (major, _capitalised(occupations.label(major, lang)))
            for major in occupations.major_groups
        ],
    }
