"""The profile form, shared by the first-time wizard (one step at a time) and the edit
page (everything at once).

Spoken languages are entered as a few rows of "language + level", languages being
learned as a few rows of "language": that works without JavaScript and keeps the
form short on a phone. The rules themselves (known codes, limits, the age field
that fits the kind of participant) are the node's (``profile_problems``); this
module reads the fields and words the problems.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from matching.wire import MAX_INTERESTS
from node.profiles import profiles
from node.profiles.profiles import ProfileData
from node.runtime.i18n import Translator
from web.forms.base import Form, FormData, checked, echo, has_control_characters, text, texts

SPOKEN_ROWS = 5
LEARNING_ROWS = 3

# The wizard's steps and the fields each one asks for.
STEPS: tuple[str, ...] = ("interests", "languages", "about")
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "interests": ("interests",),
    "languages": ("languages", "learning"),
    "about": ("age_band", "children_age_bands", "occupation", "about", "show_about", "paused"),
}
ALL_FIELDS: tuple[str, ...] = tuple(name for step in STEPS for name in STEP_FIELDS[step])


INTEREST_FILTER_LIMIT = 60
"""The longest filter text kept: longer ones are not typed to narrow a list."""

Choice = tuple[str, str]  # code, label


@dataclass(frozen=True, slots=True)
class InterestSection:
    """One category of the interest step: its interests, and which of them the filter
    text leaves visible (the others stay in the form, hidden, so a choice is kept)."""

    code: str
    label: str
    items: tuple[tuple[str, str, bool], ...]  # code, label, shown

    @property
    def shown(self) -> bool:
        return any(shown for _code, _label, shown in self.items)


@dataclass(frozen=True, slots=True)
class InterestStep:
    """The interest step as shown: the chosen ones first, then the categories."""

    chosen: tuple[Choice, ...]
    sections: tuple[InterestSection, ...]
    query: str
    matches: int
    limit: int = MAX_INTERESTS


def interest_filter(data: FormData) -> str:
    """The filter text of the interest step (a round trip narrows the list without script)."""
    value = " ".join(text(data, "interest_filter").split())
    return "" if has_control_characters(value) else value[:INTEREST_FILTER_LIMIT]


def folded(value: str) -> str:
    """A label as the filter compares it: case and accents ignored ("velo" finds "vélo")."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def interest_step(
    categories: Sequence[tuple[str, str, Sequence[Choice]]], chosen: Iterable[str], query: str
) -> InterestStep:
    """Group, mark the chosen and apply the filter: an interest is shown when its label
    or its category's label contains the filter text."""
    wanted = set(chosen)
    needle = folded(query)
    sections: list[InterestSection] = []
    picked: list[Choice] = []
    matches = 0
    for code, label, items in categories:
        whole = bool(needle) and needle in folded(label)
        marked = []
        for item, item_label in items:
            shown = not needle or whole or needle in folded(item_label)
            matches += shown
            marked.append((item, item_label, shown))
            if item in wanted:
                picked.append((item, item_label))
        sections.append(InterestSection(code, label, tuple(marked)))
    return InterestStep(tuple(picked), tuple(sections), query, matches if needle else 0)


def interest_counter(t: Translator, count: int, shown: str | None = None) -> str:
    """ "3 of at most 20 chosen"; with ``shown`` in place of the number, the pattern the
    page's script fills in (``static/interests.js``) for that plural form."""
    text = t.ngettext(
        "%(count)s of at most %(max)s chosen", "%(count)s of at most %(max)s chosen", count
    )
    return text % {"count": count if shown is None else shown, "max": MAX_INTERESTS}


def step_of(field: str) -> str:
    return next(step for step in STEPS if field in STEP_FIELDS[step])


def values_from(data: ProfileData) -> dict[str, Any]:
    """Form values for stored (or empty) profile data."""
    spoken = list(data.languages.items())[:SPOKEN_ROWS]
    learning = list(data.learning)[:LEARNING_ROWS]
    return {
        "interests": list(data.interests),
        "occupation": data.occupation or "",
        "spoken": spoken + [("", "")] * (SPOKEN_ROWS - len(spoken)),
        "learning": learning + [""] * (LEARNING_ROWS - len(learning)),
        "age_band": data.age_band or "",
        "children_age_bands": list(data.children_age_bands),
        "about": data.about,
        "show_about": data.show_about,
        "paused": data.paused,
    }


class ProfileForm(Form):
    fields = ALL_FIELDS

    def __init__(self, translator: Translator, kind: str, minimum_age: int | None = None) -> None:
        super().__init__(translator, values_from(ProfileData()))
        self.kind = kind
        self.minimum_age = minimum_age
        self.data = ProfileData()

    def parse(self, data: FormData) -> ProfileForm:
        """Read every profile field of a submitted form (present or carried along)."""
        _ = self.t.gettext
        interests = [v for v in texts(data, "interests", limit=300) if len(v) <= 64]
        occupation = text(data, "occupation")[:8]
        spoken_rows: list[tuple[str, str]] = []
        for row in range(1, SPOKEN_ROWS + 1):
            code = text(data, f"spoken-{row}-language")[:8]
            level = text(data, f"spoken-{row}-level")[:8]
            spoken_rows.append((code, level))
        learning_rows = [text(data, f"learning-{row}")[:8] for row in range(1, LEARNING_ROWS + 1)]
        about = text(data, "about").replace("\r\n", "\n")
        # Fields the page does not offer for this kind of participant are ignored.
        age_band = text(data, "age_band")[:32] if profiles.age_bands_for(self.kind) else ""
        children = (
            [v for v in texts(data, "children_age_bands", limit=10) if len(v) <= 16]
            if self.kind == "family"
            else []
        )
        self.values = {
            "interests": interests,
            "occupation": occupation,
            "spoken": spoken_rows,
            "learning": learning_rows,
            "age_band": age_band,
            "children_age_bands": children,
            "about": echo(about),
            "show_about": checked(data, "show_about"),
            "paused": checked(data, "paused"),
        }
        languages: dict[str, str] = {}
        for code, level in spoken_rows:
            if not code and not level:
                continue
            if not code:
                self.error("languages", _("Choose the language for each level you gave."))
            elif not level:
                self.error("languages", _("Choose how well you speak each language."))
            elif code in languages:
                self.error("languages", _("List each language only once."))
            else:
                languages[code] = level
        learning: list[str] = []
        for code in learning_rows:
            if code and code in learning:
                self.error("learning", _("List each language only once."))
            elif code:
                learning.append(code)
        if has_control_characters(about, allow_newlines=True):
            self.error("about", _("The text contains characters that cannot be used."))
        self.data = ProfileData(
            interests=tuple(interests),
            occupation=occupation or None,
            languages=languages,
            learning=tuple(learning),
            age_band=age_band or None,
            children_age_bands=tuple(children),
            about=about,
            show_about=bool(self.values["show_about"]),
            paused=bool(self.values["paused"]),
        )
        return self

    def check(self, only: Iterable[str] | None = None) -> ProfileForm:
        """Apply the node's profile rules, keeping messages for the ``only`` fields."""
        wanted = set(ALL_FIELDS if only is None else only)
        problems = profiles.profile_problems(self.kind, self.data, self.minimum_age)
        for name, code in problems.items():
            if name in wanted:
                self.error(name, self._message(name, code))
        for name in list(self.errors):
            if name not in wanted:
                del self.errors[name]
        return self

    def first_step_in_error(self) -> str | None:
        for step in STEPS:
            if any(name in self.errors for name in STEP_FIELDS[step]):
                return step
        return None

    def _message(self, name: str, code: str) -> str:
        _ = self.t.gettext
        if name == "interests":
            if code == profiles.REQUIRED:
                return _("Choose at least one interest.")
            if code == profiles.TOO_MANY:
                return _("Choose at most %(max)s interests.") % {"max": MAX_INTERESTS}
        if name == "languages":
            if code == profiles.REQUIRED:
                return _("Give at least one language you speak.")
            if code == profiles.TOO_MANY:
                return _("Give at most %(max)s languages.") % {"max": profiles.MAX_SPOKEN}
        if name == "learning" and code == profiles.NATIVE_LEARNING:
            return _("You gave this language as your native language.")
        if name == "age_band" and code == profiles.REQUIRED:
            if self.kind == "school_class":
                return _("Choose the grades of your class.")
            return _("Choose your age group.")
        if name == "age_band" and code == profiles.BELOW_MINIMUM_AGE:
            return _(
                "This age group lies below the minimum age of %(age)s for taking part on "
                "your own. Younger people take part with their family or school class."
            ) % {"age": self.minimum_age}
        if name == "about" and code == profiles.TOO_LONG:
            return _("Use at most %(max)s characters (you used %(used)s).") % {
                "max": profiles.MAX_ABOUT_LENGTH,
                "used": len(self.data.about),
            }
        return _("Choose from the list.")
