"""One style definition for every output: web map, print map, reports.

Colours, labels (French, shown to users), icons and line styles for:

* the perception themes of walk annotations (:data:`THEMES`),
* the kinds of candidate deployment sites (:data:`SITE_KINDS`),
* the kinds of urban breaks (:data:`BREAK_KINDS`),
* the analytic layer kinds (:data:`LAYER_STYLES`),
* the valences of annotations (:data:`VALENCES`).

Icons are Font Awesome 4 names (what folium's ``Icon`` uses by default); ``Theme.glyph`` is a
plain character for pages that must work offline (the web and print maps, reports). The print
map uses the colours and the marker shapes given here, so both maps read the same way.
Graduated layers share their classes too (:data:`SEALED_SHARE_CLASSES`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BREAK_KINDS",
    "LAYER_STYLES",
    "SEALED_SHARE_CLASSES",
    "SITE_KINDS",
    "THEMES",
    "VALENCES",
    "BreakKind",
    "GraduatedClass",
    "LayerStyle",
    "SiteKind",
    "Theme",
    "Valence",
]


@dataclass(frozen=True)
class Theme:
    """A perception theme of the marche sensible vocabulary."""

    code: str
    label: str
    colour: str
    icon: str
    synonyms: tuple[str, ...] = ()
    #: A character present in DejaVu Sans (matplotlib's font, common in browsers), drawn in
    #: the theme's disc on the web and print maps and usable in reports (no icon font offline).
    glyph: str = "?"


@dataclass(frozen=True)
class Valence:
    """How an annotation feels: negative, neutral or positive."""

    code: str
    label: str
    marker: str  # matplotlib marker for print
    border: str  # CSS border style for the web map


@dataclass(frozen=True)
class SiteKind:
    """A kind of candidate deployment site."""

    code: str
    label: str
    colour: str
    icon: str
    #: matplotlib marker of the print map; two kinds share a marker only when their colours
    #: stay apart under the three colour-vision deficiencies (tests/test_palette.py)
    marker: str = "s"


@dataclass(frozen=True)
class BreakKind:
    """A kind of urban break (coupure urbaine)."""

    code: str
    label: str
    colour: str
    width: float
    dash: str | None  # CSS dash array for the web map, None for solid


@dataclass(frozen=True)
class LayerStyle:
    """Style of an analytic layer kind."""

    label: str
    colour: str
    fill: str | None
    fill_opacity: float
    weight: float
    dash: str | None = None
    hatch: str | None = None  # matplotlib hatch for print; the web map draws an SVG pattern


@dataclass(frozen=True)
class GraduatedClass:
    """One class of a graduated (choropleth) layer: ``lower <= value < upper``."""

    lower: float
    upper: float
    label: str
    colour: str


# Colours are chosen to stay distinct for the commonest colour-vision deficiencies when
# combined with the icon: never rely on colour alone (icons, borders and labels carry meaning).
THEMES: dict[str, Theme] = {
    t.code: t
    for t in (
        Theme(
            "chaleur",
            "Chaleur, îlot de chaleur",
            "#d7301f",
            "sun-o",
            (
                "ilot de chaleur",
                "trop chaud",
                "canicule",
                "chaud",
                "surchauffe",
                "heat",
                "soleil",
                "pas d'ombre",
                "manque d'ombre",
                "fournaise",
            ),
            glyph="☀",
        ),
        Theme(
            "manque_vegetation",
            "Manque de végétation",
            "#8c6d31",
            "tree",
            (
                "manque de vegetation",
                "pas d'arbres",
                "pas de verdure",
                "trop mineral",
                "mineral",
                "beton",
                "betonne",
                "manque d'arbres",
                "lack of greenery",
            ),
            glyph="⊘",
        ),
        Theme(
            "fraicheur_vegetation",
            "Végétation agréable, fraîcheur",
            "#1a9850",
            "leaf",
            (
                "fraicheur",
                "ombre",
                "verdure",
                "vegetation agreable",
                "ilot de fraicheur",
                "arbres",
                "parc",
                "jardin",
                "frais",
                "greenery",
                "coolness",
            ),
            glyph="♣",
        ),
        Theme(
            "bruit",
            "Bruit",
            "#6a3d9a",
            "volume-up",
            ("nuisance sonore", "bruyant", "nuisances sonores", "sonore", "noise", "vacarme"),
            glyph="♪",
        ),
        Theme(
            "pollution_air",
            "Pollution de l'air",
            "#636363",
            "cloud",
            (
                "pollution",
                "air",
                "qualite de l'air",
                "odeur",
                "odeurs",
                "gaz d'echappement",
                "air pollution",
                "poussiere",
            ),
            glyph="☁",
        ),
        Theme(
            "insecurite",
            "Sentiment d'insécurité",
            "#b2182b",
            "exclamation-triangle",
            (
                "insecurite",
                "peur",
                "dangereux",
                "danger",
                "pas rassurant",
                "inquietant",
                "unsafe",
                "agression",
                "sentiment d'insecurite",
            ),
            glyph="⚠",
        ),
        Theme(
            "eclairage",
            "Éclairage",
            "#fdb863",
            "lightbulb-o",
            (
                "eclairage public",
                "sombre",
                "mal eclaire",
                "lumiere",
                "obscurite",
                "lighting",
                "lampadaire",
            ),
            glyph="☼",
        ),
        Theme(
            "proprete",
            "Propreté",
            "#a6761d",
            "trash",
            (
                "sale",
                "dechets",
                "salete",
                "ordures",
                "depot sauvage",
                "depots sauvages",
                "cleanliness",
                "poubelles",
                "tags",
            ),
            glyph="♻",
        ),
        Theme(
            "accessibilite",
            "Accessibilité",
            "#2166ac",
            "wheelchair",
            (
                "pmr",
                "handicap",
                "fauteuil roulant",
                "poussette",
                "accessible",
                "inaccessible",
                "accessibility",
                "trottoir etroit",
            ),
            glyph="♿",
        ),
        Theme(
            "coupure",
            "Franchissement difficile, coupure",
            "#000000",
            "road",
            (
                "franchissement",
                "coupure urbaine",
                "traversee difficile",
                "difficile a traverser",
                "voie ferree",
                "autoroute",
                "rupture",
                "barriere",
                "hard crossing",
                "break",
                "detour",
            ),
            glyph="‖",
        ),
        Theme(
            "confort_marche",
            "Confort de marche",
            "#4393c3",
            "male",
            (
                "marche",
                "pieton",
                "pietons",
                "trottoir",
                "trottoirs",
                "cheminement",
                "walking comfort",
                "marchabilite",
            ),
            glyph="⇢",
        ),
        Theme(
            "circulation",
            "Circulation, vitesse",
            "#e08214",
            "car",
            (
                "trafic",
                "voitures",
                "vitesse",
                "circulation automobile",
                "traffic",
                "speed",
                "embouteillage",
                "poids lourds",
            ),
            glyph="⇄",
        ),
        Theme(
            "velo",
            "Sécurité et confort à vélo",
            "#35978f",
            "bicycle",
            (
                "velo",
                "cyclable",
                "piste cyclable",
                "cyclistes",
                "bicyclette",
                "cycling",
                "rue problematique velo",
                "amenagement cyclable",
            ),
            glyph="∞",
        ),
        Theme(
            "stationnement",
            "Stationnement",
            "#878787",
            "product-hunt",
            ("parking", "stationnement sauvage", "voitures garees", "garees", "parking sauvage"),
            glyph="P",
        ),
        Theme(
            "mobilier_repos",
            "Mobilier urbain, repos",
            "#80cdc1",
            "bed",
            (
                "banc",
                "bancs",
                "assise",
                "assises",
                "mobilier urbain",
                "repos",
                "street furniture",
                "se reposer",
            ),
            glyph="⊓",
        ),
        Theme(
            "convivialite",
            "Convivialité, lieu de rencontre",
            "#f781bf",
            "users",
            (
                "convivial",
                "rencontre",
                "lien social",
                "vivre ensemble",
                "conviviality",
                "agreable",
                "lieu de vie",
            ),
            glyph="☺",
        ),
        Theme(
            "commerces_animation",
            "Commerces, animation",
            "#e7298a",
            "shopping-cart",
            (
                "commerces",
                "commerce",
                "animation",
                "marche forain",
                "boutiques",
                "shops",
                "animé",
                "anime",
                "vitrines vides",
            ),
            glyph="€",
        ),
        Theme(
            "patrimoine_paysage",
            "Patrimoine, paysage",
            "#7570b3",
            "university",
            (
                "patrimoine",
                "paysage",
                "vue",
                "belle vue",
                "historique",
                "heritage",
                "landscape",
                "architecture",
                "monument",
            ),
            glyph="♜",
        ),
        Theme(
            "eau",
            "Eau",
            "#1f78b4",
            "tint",
            (
                "fontaine",
                "riviere",
                "seine",
                "marne",
                "canal",
                "point d'eau",
                "water",
                "inondation",
                "ruissellement",
                "flaque",
            ),
            glyph="≈",
        ),
        Theme(
            "biodiversite",
            "Biodiversité",
            "#33a02c",
            "pagelines",
            ("faune", "flore", "oiseaux", "insectes", "biodiversity", "nature"),
            glyph="✿",
        ),
        Theme(
            "signaletique",
            "Signalétique, orientation",
            "#b15928",
            "map-signs",
            ("signalisation", "panneaux", "orientation", "se reperer", "signage", "jalonnement"),
            glyph="⚑",
        ),
        Theme(
            "energie",
            "Énergie, sobriété",
            "#e6ab02",
            "bolt",
            (
                "energie",
                "photovoltaique",
                "panneaux solaires",
                "solaire",
                "gaspillage",
                "sobriete",
                "isolation",
                "passoire thermique",
                "energy",
            ),
            glyph="⚡",
        ),
        Theme("autre", "Autre", "#999999", "question", ("other", "divers"), glyph="?"),
    )
}

VALENCES: dict[str, Valence] = {
    v.code: v
    for v in (
        Valence("negatif", "Ressenti négatif", "v", "solid"),
        Valence("neutre", "Ressenti neutre", "o", "dotted"),
        Valence("positif", "Ressenti positif", "^", "double"),
    )
}

SITE_KINDS: dict[str, SiteKind] = {
    k.code: k
    for k in (
        SiteKind("parking", "Parking", "#7f7f7f", "product-hunt", "s"),
        SiteKind("place", "Place, parvis", "#bc80bd", "square", "8"),
        SiteKind("rue", "Rue, voirie", "#969696", "road", "D"),
        SiteKind("ecole", "École, collège (cour, toiture)", "#fb8072", "graduation-cap", "p"),
        SiteKind("toiture", "Toiture", "#80b1d3", "home", "p"),
        SiteKind("facade", "Façade", "#bebada", "building-o", "P"),
        SiteKind("batiment_public", "Bâtiment public", "#8dd3c7", "building", "h"),
        SiteKind("parc", "Parc, jardin", "#33a02c", "tree", "X"),
        SiteKind("cimetiere", "Cimetière", "#b3de69", "plus", "8"),
        SiteKind("friche", "Friche", "#d9b365", "recycle", "s"),
        SiteKind("pont", "Pont, franchissement", "#525252", "exchange", "h"),
        SiteKind("croisement", "Croisement sans pont connu", "#a6a6a6", "crosshairs", "*"),
        SiteKind("gare", "Gare, pôle d'échanges", "#1f78b4", "train", "P"),
        SiteKind("equipement_sportif", "Équipement sportif", "#fdb462", "futbol-o", "D"),
        SiteKind("autre", "Autre site", "#cccccc", "map-marker", "X"),
    )
}

BREAK_KINDS: dict[str, BreakKind] = {
    k.code: k
    for k in (
        BreakKind("rail", "Voie ferrée", "#252525", 3.0, "8 4"),
        BreakKind("route", "Autoroute, voie rapide, grand axe", "#e31a1c", 4.0, None),
        BreakKind("eau", "Cours d'eau, canal", "#1f78b4", 4.0, None),
    )
}

LAYER_STYLES: dict[str, LayerStyle] = {
    "communes": LayerStyle("Communes", "#737373", None, 0.0, 1.0, "4 4"),
    "quartier": LayerStyle("Quartier d'innovation", "#d95f02", None, 0.0, 3.0),
    "qpv": LayerStyle(
        "Quartiers prioritaires (QPV 2024)", "#8e0152", "#c51b7d", 0.25, 2.0, hatch="////"
    ),
    "surfaces_minerales": LayerStyle(
        "Surfaces minéralisées (part imperméabilisée)", "#525252", "#969696", 0.5, 0.5
    ),
    "coupures": LayerStyle("Coupures urbaines", "#252525", None, 0.0, 3.0),
    "gares": LayerStyle("Gares et stations", "#1f78b4", "#ffffff", 1.0, 2.0),
    "sites": LayerStyle("Sites de déploiement", "#6a51a3", "#9e9ac8", 0.5, 1.5),
    "iris": LayerStyle("IRIS", "#9ecae1", None, 0.0, 0.8, "2 3"),
    "nuisances": LayerStyle("Cumul de nuisances (≥ 2)", "#fc8d59", "#fc8d59", 0.3, 0.5),
    "rues": LayerStyle("Rues", "#bdbdbd", None, 0.0, 1.0),
    "rues_citees": LayerStyle(
        "Rues citées par les cyclistes (FUB 2017)", "#35978f", None, 0.0, 4.0
    ),
    "arbres": LayerStyle("Arbres remarquables", "#238b45", "#41ab5d", 0.9, 1.0),
    "annotations": LayerStyle("Annotations de la marche sensible", "#333333", None, 0.0, 1.0),
    "parcours": LayerStyle("Parcours de la marche", "#ff7f00", None, 0.0, 3.0, "6 6"),
    "points_chauds": LayerStyle(
        "Points chauds des ressentis", "#e41a1c", "#e41a1c", 0.15, 2.5, "5 5"
    ),
    "espaces_verts": LayerStyle("Espaces verts", "#238b45", "#a1d99b", 0.5, 0.5),
    "batiments": LayerStyle("Bâtiments", "#737373", "#d9d9d9", 0.6, 0.3),
    "defis": LayerStyle("Défis de l'atelier « carte sur table »", "#ff00ff", "#ff00ff", 0.2, 3.0),
    "appariements": LayerStyle("Solutions recommandées", "#006d2c", "#74c476", 0.6, 2.0),
}

#: Classes of the sealed share per IRIS (``surfaces_minerales.taux_impermeable``, 0–1): a
#: lightness ramp (readable without colour vision), the same on the web and print maps.
SEALED_SHARE_CLASSES: tuple[GraduatedClass, ...] = (
    GraduatedClass(0.0, 0.2, "moins de 20 %", "#f3efe6"),
    GraduatedClass(0.2, 0.4, "20 à 40 %", "#d0c3ae"),
    GraduatedClass(0.4, 0.6, "40 à 60 %", "#ad9982"),
    GraduatedClass(0.6, 0.8, "60 à 80 %", "#88735a"),
    GraduatedClass(0.8, 1.0, "80 % et plus", "#5e4c38"),
)
