"""The demo residents the demo prints as logins, one per kind and language, the two
mayors first. Each has an obvious counterpart in the partner city, so that trying the
demo shows a twin that makes sense (the mayors are guaranteed to be twins; see
``population``)."""

from __future__ import annotations

from typing import Literal

from node.profiles.profiles import ProfileData

Role = Literal["mayor", "login"]

MAYOR_INTERESTS: tuple[str, ...] = (
    "community.volunteering",
    "exchange.franco_german",
    "exchange.twinning",
    "heritage.european_history",
    "heritage.local_history",
    "music_making.choir",
)
MAYOR_OCCUPATION = "11"  # ISCO-08: chief executives, senior officials and legislators

# (display name, kind, page language, role, profile)
Entry = tuple[str, str, str, Role, ProfileData]

OLDENBURG: tuple[Entry, ...] = (
    (
        "Jürgen Krogmann", "person", "de", "mayor",
        ProfileData(
            interests=MAYOR_INTERESTS,
            occupation=MAYOR_OCCUPATION,
            languages={"de": "native", "en": "B2", "fr": "A2"},
            learning=("fr",),
            age_band="60-69",
            about="Oberbürgermeister der Stadt Oldenburg. Die Städtepartnerschaft mit Cholet "
            "liegt mir am Herzen.",
        ),
    ),
    (
        "Emily Carter", "person", "en", "login",
        ProfileData(
            interests=("exchange.language_cafe", "exchange.tandem", "music_listening.concerts",
                       "sport.running", "travel.city_breaks", "food.baking"),
            languages={"en": "native", "de": "B1", "fr": "B2"},
            learning=("de",),
            age_band="20-29",
            about="Exchange student at the university, happy to practise my French.",
        ),
    ),
    (
        "Familie Schröder", "family", "de", "login",
        ProfileData(
            interests=("family.family_outings", "outdoors.cycle_touring", "outdoors.camping",
                       "games.board_games", "sport.swimming", "food.baking"),
            languages={"de": "native", "en": "B2", "fr": "A2"},
            learning=("fr",),
            children_age_bands=("12-17", "6-11"),
            about="Zwei Kinder, vier Fahrräder: wir suchen Radfreunde in Cholet.",
        ),
    ),
    (
        "TV Eversten Handball", "club", "de", "login",
        ProfileData(
            interests=("sport.handball", "community.club_life", "community.youth_work",
                       "exchange.twinning", "community.events"),
            languages={"de": "native", "en": "B1", "fr": "A2"},
            learning=("fr",),
            about="Handball von der F-Jugend bis zu den Alten Herren; wir suchen ein "
            "Partnerteam für ein Turnier.",
        ),
    ),
    (
        "Klasse 7b, Gymnasium Eversten", "school_class", "de", "login",
        ProfileData(
            interests=("exchange.school_exchange", "exchange.pen_pals", "sport.football",
                       "music_listening.pop", "games.video_games"),
            languages={"de": "native", "en": "A2"},
            learning=("fr",),
            age_band="grades-7-9",
            about="27 Schülerinnen und Schüler, seit diesem Jahr mit Französisch.",
        ),
    ),
)  # fmt: skip

CHOLET: tuple[Entry, ...] = (
    (
        "Gilles Bourdouleix", "person", "fr", "mayor",
        ProfileData(
            interests=MAYOR_INTERESTS,
            occupation=MAYOR_OCCUPATION,
            languages={"fr": "native", "en": "B1", "de": "A2"},
            learning=("de",),
            age_band="60-69",
            about="Maire de Cholet. Le jumelage avec Oldenburg me tient à cœur.",
        ),
    ),
    (
        "Famille Moreau", "family", "fr", "login",
        ProfileData(
            interests=("family.family_outings", "outdoors.cycle_touring", "outdoors.camping",
                       "games.board_games", "sport.swimming", "food.cooking"),
            languages={"fr": "native", "en": "B1", "de": "A2"},
            learning=("de",),
            children_age_bands=("12-17", "6-11"),
            about="Une famille de cyclistes du quartier du Verger.",
        ),
    ),
    (
        "Handball Club Colline", "club", "fr", "login",
        ProfileData(
            interests=("sport.handball", "community.club_life", "community.youth_work",
                       "exchange.twinning", "community.events"),
            languages={"fr": "native", "en": "B1", "de": "A2"},
            learning=("de",),
            about="Club formateur, des moins de 9 ans aux seniors ; un tournoi "
            "franco-allemand ?",
        ),
    ),
    (
        "4e B, Collège Clemenceau", "school_class", "fr", "login",
        ProfileData(
            interests=("exchange.school_exchange", "exchange.pen_pals", "sport.football",
                       "music_listening.pop", "games.video_games"),
            languages={"fr": "native", "en": "A2"},
            learning=("de",),
            age_band="grades-7-9",
            about="Classe bilangue : allemand depuis la 6e.",
        ),
    ),
)  # fmt: skip

FEATURED = {"oldenburg": OLDENBURG, "cholet": CHOLET}

# The twin each login is made for (``population`` sees to it that their values survive
# k-anonymity); Emily Carter, the English-speaking login, has none in particular.
COUNTERPARTS = {
    "Jürgen Krogmann": "Gilles Bourdouleix",
    "Familie Schröder": "Famille Moreau",
    "TV Eversten Handball": "Handball Club Colline",
    "Klasse 7b, Gymnasium Eversten": "4e B, Collège Clemenceau",
}
