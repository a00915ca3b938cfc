"""Names for the demonstration residents: common German and French first names and
surnames, and the districts, clubs and schools that make Oldenburg and Cholet
recognisable. Invented combinations only; any likeness to a real person is chance
(except the two mayors, who are among the residents by design)."""

from __future__ import annotations

import re
from dataclasses import dataclass


def _list(text: str) -> tuple[str, ...]:
    """A comma-separated list over several lines (keeps long name lists readable)."""
    return tuple(item.strip() for item in text.replace("\n", ",").split(",") if item.strip())


@dataclass(frozen=True, slots=True)
class CityNames:
    """Everything a city's synthetic residents are named from."""

    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]
    family_prefix: str
    districts: tuple[str, ...]
    clubs: tuple[tuple[str, str], ...]  # (name pattern with {district}, theme)
    schools: tuple[tuple[str, str], ...]  # (school name, school type)
    class_pattern: str  # with {year}, {letter}, {school}
    class_letters: str
    mail_domain: str


OLDENBURG = CityNames(
    female=_list("""
        Anna, Anke, Antje, Birgit, Carla, Christiane, Claudia, Dörte, Elke, Emma, Frauke,
        Gesa, Hanna, Heike, Ilse, Imke, Insa, Jana, Julia, Karin, Katrin, Lea, Lena, Lina,
        Mareike, Marie, Meike, Mia, Monika, Nele, Petra, Renate, Sabine, Silke, Sophie,
        Stefanie, Svenja, Tanja, Tomke, Ulrike, Wiebke, Yvonne"""),
    male=_list("""
        Andreas, Bernd, Björn, Christian, Dirk, Eike, Felix, Finn, Frank, Gerd, Hauke, Heiko,
        Hendrik, Holger, Jan, Jannes, Jens, Jonas, Jörg, Karsten, Klaus, Lars, Lukas, Malte,
        Matthias, Michael, Niklas, Ole, Paul, Peter, Ralf, Sönke, Stefan, Sven, Thomas,
        Thorsten, Tim, Uwe, Volker, Wilhelm, Wolfgang"""),
    surnames=_list("""
        Ahlers, Albers, Bakker, Behrens, Bruns, Cordes, Diekmann, Eilers, Fischer, Gerdes,
        Hanken, Harms, Hinrichs, Hoffmann, Janßen, Kramer, Krüger, Lange, Lüken, Meier,
        Meyer, Müller, Oltmanns, Peters, Rieken, Schmidt, Schröder, Schulz, Schwarting,
        Stolle, Tapken, Thölke, Wachtendorf, Wagner, Weber, Wichmann, Wilken, Wolters"""),
    family_prefix="Familie",
    districts=_list("""
        Eversten, Bürgerfelde, Donnerschwee, Kreyenbrück, Osternburg, Bloherfelde,
        Ofenerdiek, Nadorst, Ohmstede, Haarentor, Wechloy, Bümmerstede, Etzhorn,
        Dietrichsfeld"""),
    clubs=(
        ("TV {district} Handball", "handball"),
        ("SV {district} Fußball", "football"),
        ("Basketballfreunde {district}", "basketball"),
        ("Radsportfreunde {district}", "cycling"),
        ("Ruderverein Hunte {district}", "rowing"),
        ("Gemischter Chor {district}", "choir"),
        ("Posaunenchor {district}", "brass"),
        ("Theatergruppe {district}", "theatre"),
        ("Schachclub {district}", "chess"),
        ("Kleingartenverein {district}", "gardening"),
        ("Boßel- und Boulefreunde {district}", "petanque"),
        ("Heimatverein {district}", "history"),
        ("Tanzkreis {district}", "dance"),
        ("Fotofreunde {district}", "photography"),
        ("Wandergruppe {district}", "hiking"),
    ),
    schools=(
        ("Gymnasium Eversten", "gymnasium"),
        ("Altes Gymnasium", "gymnasium"),
        ("Herbartgymnasium", "gymnasium"),
        ("Cäcilienschule", "gymnasium"),
        ("Liebfrauenschule", "gymnasium"),
        ("IGS Flötenteich", "gesamtschule"),
        ("IGS Kreyenbrück", "gesamtschule"),
        ("Oberschule Ofenerdiek", "oberschule"),
        ("Grundschule Bürgeresch", "grundschule"),
        ("Grundschule Haarentor", "grundschule"),
    ),
    class_pattern="Klasse {year}{letter}, {school}",
    class_letters="abcd",
    mail_domain="oldenburg.example",
)

CHOLET = CityNames(
    female=_list("""
        Agathe, Alice, Anne, Aurélie, Camille, Catherine, Chloé, Claire, Delphine, Élise,
        Emma, Françoise, Hélène, Inès, Isabelle, Jeanne, Julie, Laure, Léa, Louise, Lucie,
        Manon, Margaux, Marie, Martine, Mathilde, Nathalie, Océane, Pauline, Sandrine,
        Sophie, Sylvie, Valérie, Véronique, Yvette, Zoé"""),
    male=_list("""
        Alain, Antoine, Arthur, Benoît, Bernard, Bruno, Christophe, Damien, Didier, Étienne,
        François, Gabriel, Guillaume, Hugo, Jacques, Jean, Jérôme, Julien, Laurent, Louis,
        Luc, Marc, Mathis, Maxime, Michel, Nicolas, Olivier, Patrick, Philippe, Pierre,
        Raphaël, Sébastien, Thierry, Thomas, Vincent, Yann"""),
    surnames=_list("""
        Audouin, Baudry, Bernard, Blanchard, Bodin, Boisseau, Bonnet, Brochard, Chauvière,
        Cesbron, Chiron, Cousin, Dubois, Durand, Fournier, Gaborit, Girard, Godard, Guérin,
        Joly, Lambert, Leroy, Martin, Masson, Ménard, Merlet, Moreau, Ogier, Onillon, Petit,
        Piou, Poirier, Renou, Richard, Rousseau, Simon, Thomas, Tijou, Vincent"""),
    family_prefix="Famille",
    districts=_list("""
        Bretonnaiserie, Jean Monnet, Verger, Colline, Puy-Saint-Bonnet, Saint-Pierre,
        Sacré-Cœur, Villeneuve, Girardière, Favreau, Sainte-Bernadette, Bellevue"""),
    clubs=(
        ("Handball Club {district}", "handball"),
        ("Étoile sportive {district} (football)", "football"),
        ("Basket club {district}", "basketball"),
        ("Cyclo-club {district}", "cycling"),
        ("Aviron choletais {district}", "rowing"),
        ("Chorale de {district}", "choir"),
        ("Harmonie de {district}", "brass"),
        ("Troupe de théâtre de {district}", "theatre"),
        ("Échiquier de {district}", "chess"),
        ("Jardins familiaux de {district}", "gardening"),
        ("Amicale pétanque {district}", "petanque"),
        ("Cercle d'histoire de {district}", "history"),
        ("Danse en ligne {district}", "dance"),
        ("Photo-club {district}", "photography"),
        ("Randonneurs de {district}", "hiking"),
    ),
    schools=(
        ("Collège Clemenceau", "college"),
        ("Collège Trémolières", "college"),
        ("Collège Colbert", "college"),
        ("Collège Jean Rostand", "college"),
        ("Lycée Fernand Renaud", "lycee"),
        ("Lycée Europe Robert Schuman", "lycee"),
        ("Lycée Sainte-Marie", "lycee"),
        ("École Jean Macé", "ecole"),
        ("École Pasteur", "ecole"),
    ),
    class_pattern="{year} {letter}, {school}",
    class_letters="ABCD",
    mail_domain="cholet.example",
)

# Per school type: the school years a class is named after, with the grade band each
# falls in ("4e" is the eighth year of school in France, like a German "Klasse 8").
SCHOOL_YEARS: dict[str, tuple[tuple[str, str], ...]] = {
    "grundschule": (("3", "grades-1-4"), ("4", "grades-1-4")),
    "oberschule": (("6", "grades-5-6"), ("7", "grades-7-9"), ("9", "grades-7-9")),
    "gesamtschule": (("6", "grades-5-6"), ("8", "grades-7-9"), ("10", "grades-10-13")),
    "gymnasium": (("6", "grades-5-6"), ("7", "grades-7-9"), ("10", "grades-10-13")),
    "ecole": (("CE2", "grades-1-4"), ("CM1", "grades-1-4"), ("CM2", "grades-5-6")),
    "college": (("6e", "grades-5-6"), ("5e", "grades-7-9"), ("4e", "grades-7-9")),
    "lycee": (("2nde", "grades-10-13"), ("1re", "grades-10-13")),
}


_ASCII = str.maketrans(
    {
        "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "ê": "e", "ë": "e",
        "à": "a", "â": "a", "ç": "c", "î": "i", "ï": "i", "ô": "o", "û": "u", "ù": "u",
        "œ": "oe",
    }
)  # fmt: skip


def mail_local_part(*words: str) -> str:
    """``Jürgen``, ``Krogmann`` → ``juergen.krogmann``; ``TV Eversten Handball`` →
    ``tv-eversten-handball``: addresses people would type."""
    parts = [
        re.sub(r"[^a-z0-9]+", "-", word.lower().translate(_ASCII)).strip("-") for word in words
    ]
    return ".".join(part for part in parts if part)
