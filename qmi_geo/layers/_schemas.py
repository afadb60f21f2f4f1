"""Typed schemas of the layer kinds a diagnostic uses.

Each :class:`LayerKind` names the canonical fields of a kind (French names, as users see them
in QGIS), the geometry families it accepts, and the usual names of each field in the sources we
meet (ANCT, IDFM, INSEE, IPR, OSM...). :func:`qmi_geo.layers.normalise_layer` renames source
fields to canonical ones with these aliases, so a new source with common field names needs no
configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["KINDS", "FieldSpec", "LayerKind"]

POLYGON = frozenset({"Polygon", "MultiPolygon"})
LINE = frozenset({"LineString", "MultiLineString"})
POINT = frozenset({"Point", "MultiPoint"})
ANY = POLYGON | LINE | POINT


@dataclass(frozen=True)
class FieldSpec:
    """One canonical field of a layer kind."""

    name: str
    dtype: str  # "str", "float", "int", "bool"
    required: bool = False
    aliases: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class LayerKind:
    """A kind of layer: its canonical fields and accepted geometry families."""

    name: str
    label: str
    geom_types: frozenset[str]
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)
    description: str = ""

    @property
    def required(self) -> list[str]:
        """Names of the required canonical fields."""
        return [f.name for f in self.fields if f.required]


KINDS: dict[str, LayerKind] = {
    k.name: k
    for k in (
        LayerKind(
            "communes",
            "Communes",
            POLYGON,
            (
                FieldSpec(
                    "insee",
                    "str",
                    True,
                    (
                        "code",
                        "insee_com",
                        "code_insee",
                        "INSEE_COM",
                        "codgeo",
                        "com_code",
                        "code_commune",
                    ),
                ),
                FieldSpec(
                    "nom",
                    "str",
                    False,
                    ("nom_com", "NOM", "NOM_COM", "libelle", "name", "nom_commune", "libgeo"),
                ),
            ),
            "Limites communales (ADMIN EXPRESS).",
        ),
        LayerKind(
            "quartier",
            "Quartier d'innovation",
            POLYGON,
            (FieldSpec("nom", "str", False, ("name", "NOM", "libelle", "quartier")),),
            "Périmètre du quartier d'innovation ; par défaut, la commune.",
        ),
        LayerKind(
            "qpv",
            "Quartiers prioritaires de la politique de la ville",
            POLYGON,
            (
                FieldSpec(
                    "code_qp",
                    "str",
                    True,
                    ("code_qpv", "CODE_QP", "code_quartier", "code", "QP", "cd_qp"),
                ),
                FieldSpec(
                    "lib_qp",
                    "str",
                    False,
                    ("nom_qp", "LIB_QP", "nom_qpv", "lib_qpv", "label", "nom", "libelle"),
                ),
                FieldSpec(
                    "insee_com",
                    "str",
                    False,
                    ("insee", "code_insee", "INSEE_COM", "commune_qp", "list_com_2024"),
                ),
            ),
            "Périmètres QPV 2024 (codes QN…) ou 2015 (codes QP…).",
        ),
        LayerKind(
            "surfaces_minerales",
            "Surfaces minéralisées",
            POLYGON,
            (
                FieldSpec(
                    "taux_impermeable",
                    "float",
                    False,
                    (
                        "pct_artificialise",
                        "pct_artificialized",
                        "taux_artificialisation",
                        "impermeabilite",
                        "imperviousness",
                        "sealed_share",
                        "part_impermeable",
                    ),
                    "Part imperméabilisée de la zone, de 0 à 1 (1 pour un polygone imperméable).",
                ),
                FieldSpec("code_zone", "str", False, ("code_iris", "id", "code")),
            ),
            "Zones imperméabilisées (taux 1) ou zones portant une part imperméabilisée.",
        ),
        LayerKind(
            "coupures",
            "Coupures urbaines",
            LINE | POLYGON,
            (
                FieldSpec(
                    "type",
                    "str",
                    True,
                    ("kind", "type_coupure", "categorie"),
                    "rail, route ou eau.",
                ),
                FieldSpec("nom", "str", False, ("name", "NOM", "res_com", "ref", "libelle")),
                FieldSpec(
                    "sous_type", "str", False, ("mode", "highway", "railway", "waterway", "nature")
                ),
            ),
            "Voies ferrées, autoroutes et grands axes, cours d'eau et canaux.",
        ),
        LayerKind(
            "sites",
            "Sites de déploiement",
            ANY,
            (
                FieldSpec("type", "str", True, ("kind", "type_site", "categorie", "nature")),
                FieldSpec(
                    "nom",
                    "str",
                    False,
                    ("name", "NOM", "appellation_officielle", "libelle", "rue", "nom_long"),
                ),
                FieldSpec(
                    "surface_m2", "float", False, ("area", "surface", "aire_m2", "superficie")
                ),
                FieldSpec(
                    "proprietaire",
                    "str",
                    False,
                    ("owner", "gestionnaire", "operator", "secteur_public_prive_libe"),
                ),
            ),
            "Parkings, places, rues, cours d'école, toitures, bâtiments publics, parcs, "
            "cimetières, friches, ponts, gares…",
        ),
        LayerKind(
            "gares",
            "Gares et stations",
            POINT,
            (
                FieldSpec(
                    "nom",
                    "str",
                    True,
                    ("nom_long", "name", "nom_gare", "nom_zdc", "NOM", "libelle"),
                ),
                FieldSpec("ligne", "str", False, ("res_com", "line", "ligne_res", "indice_lig")),
                FieldSpec("mode", "str", False, ("mode", "transport_mode")),
                FieldSpec(
                    "reseau", "str", False, ("network",), "« existant » ou « grand_paris_express »."
                ),
            ),
            "Gares ferroviaires, RER, métro, tramway ; gares du Grand Paris Express.",
        ),
        LayerKind(
            "iris",
            "IRIS",
            POLYGON,
            (
                FieldSpec("code_iris", "str", True, ("CODE_IRIS", "iris", "code")),
                FieldSpec("nom_iris", "str", False, ("NOM_IRIS", "lib_iris", "name")),
                FieldSpec(
                    "population", "float", False, ("pop", "P21_POP", "P20_POP", "population_2021")
                ),
                FieldSpec(
                    "revenu_median",
                    "float",
                    False,
                    ("median_income", "filo2021_median_eur", "DISP_MED21", "med_disp"),
                ),
            ),
            "Îlots IRIS de l'INSEE, avec population et revenu médian quand ils existent.",
        ),
        LayerKind(
            "nuisances",
            "Cumul de nuisances environnementales",
            POLYGON,
            (
                FieldSpec("nb_nuisances", "int", True, ("nuisances", "nb_nuis", "cumul")),
                FieldSpec("point_noir", "bool", False, ("point_noir_env", "pne", "black_spot")),
            ),
            "Grille régionale de l'Institut Paris Region (mailles de 500 m).",
        ),
        LayerKind(
            "rues",
            "Rues",
            LINE,
            (
                FieldSpec("nom", "str", False, ("name", "NOM", "nom_voie")),
                FieldSpec("highway", "str", False, ("type", "nature", "classe")),
            ),
            "Réseau viaire (OpenStreetMap), utilisé pour les franchissements et détours.",
        ),
        LayerKind(
            "rues_citees",
            "Rues citées comme problématiques",
            LINE | POINT,
            (
                FieldSpec("nom", "str", True, ("rue", "name", "street")),
                FieldSpec("votes", "float", True, ("nb_votes", "count", "n")),
                FieldSpec("n_reponses", "float", False, ("n_reponses_commune",)),
            ),
            "Baromètre des villes cyclables (FUB) : rues citées et nombre de répondants.",
        ),
        LayerKind(
            "arbres",
            "Arbres remarquables",
            POINT,
            (FieldSpec("nom", "str", False, ("nom_francais", "name", "espece", "essence")),),
            "Arbres remarquables ou d'alignement.",
        ),
        LayerKind(
            "espaces_verts",
            "Espaces verts",
            POLYGON,
            (
                FieldSpec("type", "str", False, ("leisure", "landuse", "natural")),
                FieldSpec("nom", "str", False, ("name", "NOM")),
            ),
            "Parcs, jardins, bois et pelouses (OpenStreetMap) : part végétalisée.",
        ),
        LayerKind(
            "batiments",
            "Bâtiments",
            POLYGON,
            (
                FieldSpec("type", "str", False, ("building", "nature")),
                FieldSpec("hauteur_m", "float", False, ("height", "hauteur")),
            ),
            "Emprises des bâtiments (OpenStreetMap, BD TOPO).",
        ),
        LayerKind(
            "defis",
            "Défis de l'atelier",
            ANY,
            (
                FieldSpec("theme", "str", True, ("thème", "categorie")),
                FieldSpec("priorite", "int", True, ("priorité", "priority", "rang")),
                FieldSpec("commentaire", "str", False, ("comment", "description")),
            ),
            "Défis dessinés et classés par la commune pendant l'atelier « carte sur table ».",
        ),
    )
}
