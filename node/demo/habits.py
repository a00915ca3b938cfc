"""What the demo residents are like: interest themes, what clubs, families and school
classes care about, jobs and ages, and how each city speaks. Codes are those of the
shared vocabularies (``matching/data``); the weights are rough, plausible shares."""

from __future__ import annotations

from dataclasses import dataclass


def _codes(category: str, names: str) -> tuple[str, ...]:
    return tuple(f"{category}.{name}" for name in names.split())


def _weights(text: str) -> dict[str, int]:
    """``"23:9 22:7"`` → ``{"23": 9, "22": 7}``."""
    return {key: int(weight) for key, weight in (item.split(":") for item in text.split())}


# A person picks two themes and most interests from them, so that people who share
# a theme find each other.
THEMES: dict[str, tuple[str, ...]] = {
    "sport": _codes(
        "sport",
        "football handball basketball cycling running swimming fitness tennis rowing yoga "
        "petanque table_tennis",
    ),
    "outdoors": _codes(
        "outdoors", "hiking walking cycle_touring camping birdwatching nature_conservation fishing"
    ),
    "music": _codes("music_making", "choir guitar piano")
    + _codes("music_listening", "jazz classical concerts rock chanson festivals"),
    "culture": _codes("arts", "museums painting pottery")
    + _codes("stage", "theatre cinema")
    + _codes("literature", "novels crime_fiction book_club"),
    "food": _codes(
        "food", "cooking baking wine french_cuisine markets cheese beer regional_cuisine coffee"
    ),
    "exchange": _codes(
        "exchange", "twinning franco_german tandem language_cafe pen_pals language_learning"
    )
    + _codes("travel", "city_breaks europe train_travel"),
    "heritage": _codes(
        "heritage", "local_history european_history architecture genealogy castles traditions"
    ),
    "tech": _codes(
        "technology", "programming electronics railways astronomy repairing renewable_energy"
    )
    + _codes("games", "video_games"),
    "garden": _codes("home_garden", "gardening vegetable_garden allotment diy")
    + _codes("animals", "dogs cats beekeeping"),
    "community": _codes(
        "community", "volunteering club_life neighbourhood events youth_work older_people"
    ),
    "games": _codes("games", "board_games chess card_games quiz"),
    "media": _codes("media", "photography podcasts video journalism"),
    "dance": _codes("dance", "salsa ballroom tango line_dance"),
}

FAMILY_INTERESTS = _codes(
    "family",
    "family_outings playgrounds zoos holiday_camps children_sport crafts_with_children "
    "picture_books",
)

CLUB_INTERESTS: dict[str, tuple[str, ...]] = {
    "handball": ("sport.handball",),
    "football": ("sport.football",),
    "basketball": ("sport.basketball",),
    "cycling": ("sport.cycling", "outdoors.cycle_touring"),
    "rowing": ("sport.rowing", "sport.canoeing"),
    "choir": ("music_making.choir", "music_making.singing"),
    "brass": _codes("music_making", "brass_band wind orchestra"),
    "theatre": ("stage.amateur_theatre", "stage.theatre"),
    "chess": ("games.chess", "games.board_games"),
    "gardening": ("home_garden.allotment", "home_garden.vegetable_garden"),
    "petanque": ("sport.petanque",),
    "history": _codes("heritage", "local_history traditions genealogy"),
    "dance": ("dance.line_dance", "dance.ballroom"),
    "photography": ("media.photography", "media.nature_photography"),
    "hiking": ("outdoors.hiking", "outdoors.walking"),
}

CLASS_INTERESTS = (
    *_codes("sport", "football handball basketball swimming"),
    *("music_listening.pop", "games.video_games", "media.video", "stage.theatre"),
    *("animals.horses", "outdoors.camping", "technology.robotics", "arts.drawing"),
)

PERSON_AGES = _weights("10-19:6 20-29:16 30-39:16 40-49:16 50-59:17 60-69:15 70-79:10 80+:4")

# ISCO-08 sub-major groups of working residents. Oldenburg: university, hospitals,
# energy and administration; Cholet: textile, shoes and food industry, farming nearby.
OCCUPATIONS = {
    "oldenburg": _weights(
        "23:9 22:7 32:6 24:7 25:6 21:6 26:5 33:6 34:4 41:6 42:4 51:5 52:6 53:5 71:4 72:3 "
        "74:3 83:3 91:2 61:1 12:3 13:2 14:2 31:4 11:2"
    ),
    "cholet": _weights(
        "23:8 22:5 32:5 24:5 25:3 21:4 26:4 33:5 34:3 41:5 42:4 51:5 52:6 53:5 71:5 72:5 "
        "75:5 81:5 82:3 83:4 91:3 61:3 12:3 13:3 14:2 31:4 11:2"
    ),
}

THEME_WEIGHTS = {
    "oldenburg": _weights(
        "sport:9 outdoors:8 music:7 culture:7 food:5 exchange:6 heritage:4 tech:5 garden:5 "
        "community:4 games:4 media:3 dance:2"
    ),
    "cholet": _weights(
        "sport:9 outdoors:6 music:7 culture:6 food:8 exchange:6 heritage:5 tech:4 garden:6 "
        "community:4 games:4 media:3 dance:3"
    ),
}


@dataclass(frozen=True, slots=True)
class Speech:
    """How a city speaks: its language and the partner's, other native languages of
    residents, languages learnt besides English, and the shares who speak English and
    the partner's language at all."""

    native: str
    partner: str
    others: tuple[str, ...]
    foreign: tuple[str, ...]
    english: float
    partner_share: float


SPEECH = {
    "oldenburg": Speech("de", "fr", ("tr", "pl", "ru", "ar", "nl"), ("es", "nl", "it"), 0.85, 0.3),
    "cholet": Speech("fr", "de", ("pt", "ar", "es", "it"), ("es", "it"), 0.7, 0.2),
}
