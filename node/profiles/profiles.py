"""What a resident says about themselves, and the one way to change it.

Every change to a profile (the wizard, the edit page, the pause switch in the
settings) goes through :func:`save_profile` or :func:`set_paused`. Both run in the
caller's unit of work and end with the publication to peers
(:func:`node.vectors.publication.publish_changes`): the change and its announcement
commit together or not at all.

The checks here are the domain rules (known codes only, at most so many interests,
the age field that fits the kind of participant); a form checks the same before it
gets here, and this module refuses anything that slipped past a form, so that no
caller can store a profile the matching could not encode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from matching.languages import load_languages
from matching.occupations import load_occupations
from matching.profile import CEFR_LEVELS, CHILD_AGE_BANDS, GRADE_BANDS, PERSON_AGE_BANDS
from matching.taxonomy import load_taxonomy
from matching.wire import MAX_INTERESTS
from node.models import Profile, Resident, utcnow
from node.runtime.db import UnitOfWork
from node.vectors.activities import Publisher
from node.vectors.publication import publish_changes

MAX_ABOUT_LENGTH = 2000
MAX_SPOKEN = 8
MAX_LEARNING = 6

# Problem codes per field; the web layer words them in the reader's language.
REQUIRED = "required"
UNKNOWN = "unknown"
TOO_MANY = "too_many"
TOO_LONG = "too_long"
NATIVE_LEARNING = "native_learning"
BELOW_MINIMUM_AGE = "below_minimum_age"


@dataclass(frozen=True, slots=True)
class ProfileData:
    """A complete profile as entered; codes as in the shared vocabularies."""

    interests: tuple[str, ...] = ()
    occupation: str | None = None
    languages: Mapping[str, str] = field(default_factory=dict)
    learning: tuple[str, ...] = ()
    age_band: str | None = None
    children_age_bands: tuple[str, ...] = ()
    about: str = ""
    # Showing the about-text is the resident's choice, never a default.
    show_about: bool = False
    paused: bool = False


class InvalidProfile(ValueError):
    """Raised by save_profile for data that breaks a rule; ``problems`` maps the field
    to its problem code."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__(", ".join(f"{name}: {code}" for name, code in problems.items()))
        self.problems = dict(problems)


def age_bands_for(kind: str, minimum_age: int | None = None) -> tuple[str, ...]:
    """The bands the ``age_band`` field offers for a kind (none for clubs, families).

    A person takes part on their own only from the node's minimum age, so a band that
    lies entirely below it is not offered; a band the minimum age falls into (10–19
    for 16) is, because it holds people old enough. The band itself is published
    unchanged: the shared vocabulary has no "16–19".
    """
    if kind == "person":
        return tuple(
            band
            for band in PERSON_AGE_BANDS
            if minimum_age is None or band_upper_age(band) >= minimum_age
        )
    return GRADE_BANDS if kind == "school_class" else ()


def band_lower_age(band: str) -> int:
    """The youngest age of a person's band: ``"10-19"`` → 10, ``"80+"`` → 80."""
    return int(band.rstrip("+").split("-")[0])


def band_upper_age(band: str) -> float:
    """The oldest age of a person's band: ``"10-19"`` → 19, ``"80+"`` → infinity."""
    if band.endswith("+"):
        return float("inf")
    return int(band.split("-")[1])


def profile_problems(
    kind: str, data: ProfileData, minimum_age: int | None = None
) -> dict[str, str]:
    """Field name → problem code for everything wrong with ``data`` (empty: fine).
    ``minimum_age`` is the node's (``node.minimum_age``); None checks the vocabulary only."""
    problems: dict[str, str] = {}
    taxonomy = load_taxonomy()
    languages = load_languages()
    if not data.interests:
        problems["interests"] = REQUIRED
    elif len(data.interests) > MAX_INTERESTS:
        problems["interests"] = TOO_MANY
    elif any(not taxonomy.is_known(c) or taxonomy.parent(c) is None for c in data.interests):
        problems["interests"] = UNKNOWN
    if data.occupation is not None and not (
        len(data.occupation) == 2 and load_occupations().is_known(data.occupation)
    ):
        problems["occupation"] = UNKNOWN
    if not data.languages:
        problems["languages"] = REQUIRED
    elif len(data.languages) > MAX_SPOKEN:
        problems["languages"] = TOO_MANY
    elif any(
        not languages.is_known(code) or level not in CEFR_LEVELS
        for code, level in data.languages.items()
    ):
        problems["languages"] = UNKNOWN
    if len(data.learning) > MAX_LEARNING:
        problems["learning"] = TOO_MANY
    elif any(not languages.is_known(code) for code in data.learning):
        problems["learning"] = UNKNOWN
    elif any(data.languages.get(code) == "native" for code in data.learning):
        problems["learning"] = NATIVE_LEARNING
    bands = age_bands_for(kind)
    if bands and data.age_band is None:
        problems["age_band"] = REQUIRED
    elif data.age_band is not None and data.age_band not in bands:
        problems["age_band"] = UNKNOWN
    elif data.age_band is not None and data.age_band not in age_bands_for(kind, minimum_age):
        problems["age_band"] = BELOW_MINIMUM_AGE
    if data.children_age_bands and (
        kind != "family" or any(band not in CHILD_AGE_BANDS for band in data.children_age_bands)
    ):
        problems["children_age_bands"] = UNKNOWN
    if len(data.about) > MAX_ABOUT_LENGTH:
        problems["about"] = TOO_LONG
    return problems


async def get_profile(session: UnitOfWork, resident: Resident) -> Profile | None:
    return await session.get(Profile, resident.id)


def profile_data(profile: Profile | None) -> ProfileData:
    """The stored profile as form data (empty for a resident without one)."""
    if profile is None:
        return ProfileData()
    return ProfileData(
        interests=tuple(profile.interests),
        occupation=profile.occupation,
        languages=dict(profile.languages),
        learning=tuple(profile.learning),
        age_band=profile.age_band,
        children_age_bands=tuple(profile.children_age_bands),
        about=profile.about,
        show_about=profile.show_about,
        paused=profile.paused,
    )


async def save_profile(
    session: UnitOfWork,
    resident: Resident,
    data: ProfileData,
    publisher: Publisher | None,
    *,
    minimum_age: int | None = None,
) -> Profile:
    """Store a complete profile (wizard or edit page) inside the caller's unit of work.

    ``publisher`` None is for filling a database before its node runs (the demo): the
    node's reconciliation at start-up then publishes everybody in one go. Pages pass
    the node's ``minimum_age``, so that no form can store an age band below it.
    """
    problems = profile_problems(resident.kind, data, minimum_age)
    if problems:
        raise InvalidProfile(problems)
    taxonomy = load_taxonomy()
    profile = await get_profile(session, resident)
    if profile is None:
        profile = Profile(resident_id=resident.id)
        session.add(profile)
    profile.interests = list(taxonomy.sort(data.interests))
    profile.occupation = data.occupation
    profile.languages = dict(sorted(data.languages.items()))
    profile.learning = sorted(set(data.learning))
    profile.age_band = data.age_band
    profile.children_age_bands = sorted(set(data.children_age_bands))
    profile.about = data.about
    profile.show_about = data.show_about
    profile.paused = data.paused
    profile.completed = True
    profile.updated_at = utcnow()
    await session.flush()
    if publisher is not None:
        await publish_changes(session, publisher, changed=[resident.id])
    return profile


async def set_paused(
    session: UnitOfWork, resident: Resident, paused: bool, publisher: Publisher
) -> Profile:
    """Pause or resume matching without touching the rest of the profile. Pausing
    withdraws the profile from the peers (not the pseudonyms: contacts and their
    conversations continue); resuming publishes it again under the same pseudonyms."""
    profile = await get_profile(session, resident)
    if profile is not None and profile.paused == paused:
        return profile  # nothing changed, nothing to announce
    if profile is None:
        profile = Profile(resident_id=resident.id, completed=False)
        session.add(profile)
    profile.paused = paused
    profile.updated_at = utcnow()
    await session.flush()
    await publish_changes(session, publisher, changed=[resident.id])
    return profile
