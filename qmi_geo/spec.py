"""Diagnostic specs: one TOML file per commune (``diagnostics/<commune>.toml``).

A spec says which commune is diagnosed, its quarter's perimeter, which layer sources feed each
kind (catalogue names or inline sources), the walk files, the solutions to match and the
weights. It is validated on load: unknown keys are rejected with a French message, relative
paths are resolved from the spec's folder.

The smallest valid spec is two lines (every other key has a default)::

    insee = "94071"
    name = "Sucy-en-Brie"

Examples
--------
>>> spec = load_spec("93005")
>>> spec.name, spec.slug, spec.buffer_m
('Aulnay-sous-Bois', 'aulnay-sous-bois', 500.0)
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from qmi_geo.errors import SpecError, UnknownCommuneError
from qmi_geo.layers._schemas import KINDS
from qmi_geo.layers.catalogue import Source, bundled_layers_dir, load_catalogue, source_from_mapping
from qmi_geo.matching.suitability import DEFAULT_WEIGHTS as _MATCHING_WEIGHTS
from qmi_geo.settings import settings

__all__ = [
    "DEFAULT_LAYERS",
    "DEFAULT_WEIGHTS",
    "DiagnosticSpec",
    "find_specs",
    "load_spec",
    "resolve_commune",
    "slugify",
]

#: Sources used for a kind when a spec does not list any (region-wide or multi-commune layers).
DEFAULT_LAYERS: dict[str, list[str]] = {
    "communes": ["communes_idf"],
    "qpv": ["qpv2024"],
    "coupures": ["rail_idfm", "cours_eau_ddt95"],
    "gares": ["gares_idfm", "gares_osm_complement", "gares_gpe"],
    "iris": ["iris_idf"],
    "surfaces_minerales": ["artificialisation_mos_iris_idf"],
    "nuisances": ["nuisances_ipr"],
    "rues_citees": ["fub_rues_citees"],
    "arbres": ["arbres_cd92"],
    "sites": ["sites_colleges", "sites_gares_idfm", "sites_gares_gpe", "sites_rues_citees"],
}

#: Default weights of the matching criteria (defined with the criteria in
#: :mod:`qmi_geo.matching.suitability`; a spec's ``[weights]`` overrides some or all).
DEFAULT_WEIGHTS: dict[str, float] = dict(_MATCHING_WEIGHTS)

_TOP_KEYS = {
    "insee",
    "name",
    "cohort",
    "perimeter",
    "layers",
    "walks",
    "solutions",
    "weights",
    "output",
    "description",
    "rapport",
}
_PERIMETER_KEYS = {"source", "layer", "buffer_m", "name"}
_WALK_KEYS = {
    "files",
    "allow_missing",
    "fub",
    "hotspot_radius_m",
    "hotspot_min_size",
    "density_cell_m",
    "density_bandwidth_m",
}
_SOLUTION_KEYS = {"catalogue", "ids", "enabled"}
_OUTPUT_KEYS = {"dir"}
#: Free-text paragraphs of the diagnostic livrable (Markdown, escaped when rendered).
_REPORT_KEYS = {"introduction", "contexte"}


@dataclass
class DiagnosticSpec:
    """A validated diagnostic spec."""

    path: Path | None
    insee: str
    name: str
    cohort: str = ""
    description: str = ""
    perimeter_source: str | Path = "commune"
    perimeter_layer: str | None = None
    perimeter_name: str | None = None
    buffer_m: float = 500.0
    layers: dict[str, list[Source]] = field(default_factory=dict)
    walk_files: list[Path] = field(default_factory=list)
    #: a missing walk file is a warning (recorded in the report) instead of an error
    walks_allow_missing: bool = False
    walks_fub: bool = True
    hotspot_radius_m: float = 150.0
    hotspot_min_size: int = 4
    density_cell_m: float = 25.0
    density_bandwidth_m: float = 150.0
    solutions_enabled: bool = True
    solutions: list[str] = field(default_factory=list)
    solution_catalogue: Path | None = None
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    output_dir: Path = Path("maps")
    #: ``[rapport]`` free text of the livrable (Markdown): ``introduction``, ``contexte``
    report_texts: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """File-system friendly name of the commune, e.g. ``aulnay-sous-bois``."""
        return slugify(self.name)

    @property
    def sources(self) -> list[Source]:
        """Every source of the spec, in order."""
        return [s for group in self.layers.values() for s in group]


def slugify(text: str) -> str:
    """Lower-case ASCII slug: ``Noisy-le-Grand`` → ``noisy-le-grand``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str, origin: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        hints = [difflib.get_close_matches(k, allowed, n=1) for k in unknown]
        hint = "; ".join(
            f"« {k} » → « {h[0]} » ?" for k, h in zip(unknown, hints, strict=True) if h
        )
        raise SpecError(
            f"{origin} : clé(s) inconnue(s) {', '.join(unknown)} dans {where} ; clés possibles : "
            f"{', '.join(sorted(allowed))}." + (f" Vouliez-vous dire {hint}" if hint else "")
        )


def _table(data: Mapping[str, Any], key: str, origin: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise SpecError(f"{origin} : « {key} » doit être une table [{key}].")
    return value


def _number(value: Any, key: str, origin: str, *, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        kind = "entier positif" if integer else "nombre positif"
        raise SpecError(f"{origin} : « {key} » doit être un {kind}, reçu {value!r}.")
    return value


def _resolve(base: Path, value: Any, key: str, origin: str) -> Path:
    if not isinstance(value, str) or not value:
        raise SpecError(f"{origin} : « {key} » doit être un chemin de fichier, reçu {value!r}.")
    return (base / value).resolve()


def _parse(data: dict[str, Any], path: Path | None, base: Path) -> DiagnosticSpec:
    origin = path.name if path else "spec"
    _check_keys(data, _TOP_KEYS, "la spec", origin)
    insee = str(data.get("insee", "")).strip()
    if not re.fullmatch(r"\d[0-9AB]\d{3}", insee):
        raise SpecError(
            f"{origin} : « insee » doit être un code INSEE à 5 caractères "
            f'(ex. "93005"), reçu {data.get("insee")!r}.'
        )
    catalogue = load_catalogue()
    communes = _commune_names()
    if insee not in communes:
        raise UnknownCommuneError(
            f"{origin} : code INSEE {insee} inconnu en Île-de-France. Vérifiez le code sur "
            "https://www.insee.fr (Code officiel géographique)."
        )
    name = str(data.get("name") or communes[insee])
    if data.get("name") and slugify(name) != slugify(communes[insee]):
        by_slug = {slugify(n): c for c, n in communes.items()}
        other = by_slug.get(slugify(name))
        named = f"{name} (code INSEE {other})" if other else f"« {name} »"
        raise SpecError(
            f"{origin} : le code INSEE {insee} est celui de {communes[insee]}, pas de {named}. "
            f"Corrigez « insee » ou « name » pour qu'ils désignent la même commune."
        )
    spec = DiagnosticSpec(
        path=path,
        insee=insee,
        name=name,
        raw=data,
        cohort=str(data.get("cohort", "")),
        description=str(data.get("description", "")),
    )
    spec.buffer_m = float(settings.buffer_m)

    perimeter = _table(data, "perimeter", origin)
    _check_keys(perimeter, _PERIMETER_KEYS, "[perimeter]", origin)
    source = perimeter.get("source", "commune")
    spec.perimeter_source = (
        "commune" if source == "commune" else _resolve(base, source, "perimeter.source", origin)
    )
    spec.perimeter_layer = perimeter.get("layer")
    spec.perimeter_name = perimeter.get("name")
    if "buffer_m" in perimeter:
        spec.buffer_m = float(_number(perimeter["buffer_m"], "perimeter.buffer_m", origin))

    layers = _table(data, "layers", origin)
    _check_keys(layers, set(KINDS), "[layers]", origin)
    wanted = {**DEFAULT_LAYERS, **layers}
    for kind, entries in wanted.items():
        if isinstance(entries, str | dict):
            entries = [entries]
        if not isinstance(entries, list):
            raise SpecError(f"{origin} : layers.{kind} doit être une liste de sources.")
        group = []
        for i, entry in enumerate(entries):
            if isinstance(entry, str):
                if entry not in catalogue:
                    close = difflib.get_close_matches(entry, catalogue, n=1)
                    hint = f" Vouliez-vous dire « {close[0]} » ?" if close else ""
                    raise SpecError(
                        f"{origin} : source « {entry} » (layers.{kind}) absente du catalogue "
                        f"layers/catalogue.toml.{hint}"
                    )
                src = catalogue[entry]
                if src.kind != kind:
                    raise SpecError(
                        f"{origin} : la source « {entry} » est de type « {src.kind} », pas "
                        f"« {kind} » ; placez-la sous layers.{src.kind}."
                    )
            elif isinstance(entry, dict):
                src = source_from_mapping(
                    f"{kind}_{i + 1}", {"kind": kind, "real": False, **entry}, base, origin
                )
            else:
                raise SpecError(f"{origin} : entrée invalide dans layers.{kind} : {entry!r}.")
            group.append(src)
        spec.layers[kind] = group

    walks = _table(data, "walks", origin)
    _check_keys(walks, _WALK_KEYS, "[walks]", origin)
    files = walks.get("files", [])
    if not isinstance(files, list):
        raise SpecError(f"{origin} : walks.files doit être une liste de fichiers.")
    spec.walk_files = [_resolve(base, f, "walks.files", origin) for f in files]
    if "allow_missing" in walks:
        if not isinstance(walks["allow_missing"], bool):
            raise SpecError(f"{origin} : walks.allow_missing doit valoir true ou false.")
        spec.walks_allow_missing = walks["allow_missing"]
    if "fub" in walks:
        if not isinstance(walks["fub"], bool):
            raise SpecError(f"{origin} : walks.fub doit valoir true ou false.")
        spec.walks_fub = walks["fub"]
    for key in ("hotspot_radius_m", "density_cell_m", "density_bandwidth_m"):
        if key in walks:
            setattr(spec, key, float(_number(walks[key], f"walks.{key}", origin)))
    if "hotspot_min_size" in walks:
        spec.hotspot_min_size = int(
            _number(walks["hotspot_min_size"], "walks.hotspot_min_size", origin, integer=True)
        )

    sol = _table(data, "solutions", origin)
    _check_keys(sol, _SOLUTION_KEYS, "[solutions]", origin)
    spec.solutions_enabled = bool(sol.get("enabled", True))
    ids = sol.get("ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise SpecError(f"{origin} : solutions.ids doit être une liste d'identifiants.")
    spec.solutions = list(ids)
    if "catalogue" in sol:
        spec.solution_catalogue = _resolve(base, sol["catalogue"], "solutions.catalogue", origin)
    else:
        default = bundled_layers_dir() / "solutions.toml"
        spec.solution_catalogue = default if default.exists() else None

    weights = _table(data, "weights", origin)
    _check_keys(weights, set(DEFAULT_WEIGHTS), "[weights]", origin)
    for key, value in weights.items():
        spec.weights[key] = float(_number(value, f"weights.{key}", origin))

    texts = _table(data, "rapport", origin)
    _check_keys(texts, _REPORT_KEYS, "[rapport]", origin)
    for key, value in texts.items():
        if not isinstance(value, str):
            raise SpecError(
                f"{origin} : rapport.{key} doit être un texte (Markdown entre triples "
                f'guillemets """…"""), reçu {value!r}.'
            )
        spec.report_texts[key] = value

    output = _table(data, "output", origin)
    _check_keys(output, _OUTPUT_KEYS, "[output]", origin)
    if "dir" in output:
        spec.output_dir = _resolve(base, output["dir"], "output.dir", origin)
    else:
        workspace = base.parent if base.name == "diagnostics" else base
        if not (workspace / "layers").is_dir():
            workspace = settings.resolved_workspace(base)
        spec.output_dir = (workspace / "maps" / spec.slug).resolve()
    return spec


_COMMUNES: dict[str, str] = {}


def _commune_names() -> dict[str, str]:
    """INSEE code → name of every current (2026) commune of Île-de-France."""
    if not _COMMUNES:
        from qmi_geo.layers.communes import communes_2026

        table = communes_2026()
        _COMMUNES.update(zip(table.index, table["nom"].astype(str), strict=True))
    return _COMMUNES


def _normal_slug(text: str) -> str:
    """Slug with the usual abbreviations expanded: « St-Denis » → ``saint-denis``."""
    slug = slugify(text.replace("'", " ").replace("’", " "))
    slug = re.sub(r"^(st|ste)-", lambda m: "saint-" if m.group(1) == "st" else "sainte-", slug)
    return re.sub(r"-(st|ste)-", lambda m: "-saint-" if m.group(1) == "st" else "-sainte-", slug)


def _former_names() -> dict[str, tuple[str, str]]:
    """Slug of an absorbed commune's name (2018 outlines) → (its name, its 2026 commune)."""
    import pyogrio

    from qmi_geo.layers.communes import communes_2026

    path = bundled_layers_dir() / "admin_express_2018_gregoiredavid/communes_ile-de-france.geojson"
    df = pyogrio.read_dataframe(path, read_geometry=False, columns=["code", "nom"])
    names = dict(zip(df["code"].astype(str), df["nom"].astype(str), strict=True))
    table = communes_2026()
    out = {}
    for code, olds in table["anciens_codes"].items():
        for old in olds:
            if old in names and old not in table.index:
                out[_normal_slug(names[old])] = (names[old], str(code))
    return out


def resolve_commune(key: str) -> str:
    """The INSEE code of a commune of Île-de-France given by code or name (2026 communes).

    Accepts names without accents, hyphens or capitals and common longer forms
    (« Montreuil-sous-Bois » → Montreuil, 93048). An absorbed commune (Pierrefitte-sur-Seine,
    93059) or a commune outside Île-de-France gets a message saying so, not a guess.

    Examples
    --------
    >>> resolve_commune("Montreuil-sous-Bois"), resolve_commune("saint denis")
    ('93048', '93066')
    >>> resolve_commune("ISSY LES MOULINEAUX")
    '92040'
    """
    from qmi_geo.layers.communes import communes_2026, france_communes

    communes = _commune_names()
    key = key.strip()
    if key in communes:
        return key
    table = communes_2026()
    by_slug = {_normal_slug(n): c for c, n in communes.items()}
    slug = _normal_slug(key)
    if slug in by_slug:
        return by_slug[slug]
    for article in ("l-", "le-", "la-", "les-"):  # « Ile Saint Denis » for L'Île-Saint-Denis
        if article + slug in by_slug:
            return by_slug[article + slug]
    for code, olds in table["anciens_codes"].items():
        if key in olds and key not in communes:
            raise UnknownCommuneError(
                f"La commune {key} n'existe plus : elle fait partie de {communes[str(code)]} "
                f"({code}) depuis sa fusion. Diagnostiquez {communes[str(code)]} ({code})."
            )
    former = _former_names()
    if slug in former:
        old, code = former[slug]
        raise UnknownCommuneError(
            f"{old} n'existe plus comme commune : elle fait partie de {communes[code]} ({code}) "
            f"depuis sa fusion. Diagnostiquez {communes[code]} ({code})."
        )
    # a longer common form of a commune's name: « Montreuil-sous-Bois » for Montreuil
    prefixes = [s for s in by_slug if slug.startswith(s + "-")]
    if prefixes:
        return by_slug[max(prefixes, key=len)]
    longer = sorted(s for s in by_slug if slug and s.startswith(slug + "-"))
    if longer:
        names = ", ".join(f"{communes[by_slug[s]]} ({by_slug[s]})" for s in longer[:5])
        raise UnknownCommuneError(
            f"« {key} » désigne plusieurs communes d'Île-de-France : {names}. Donnez le nom "
            "complet ou le code INSEE."
        )
    france = france_communes()
    outside = france[(france.index == key) | (france["nom"].map(_normal_slug) == slug)]
    outside = outside[outside["region"] != "11"]
    if len(outside):
        row = outside.iloc[0]
        raise UnknownCommuneError(
            f"« {key} » ({row['nom']}, département {row['departement']}) n'est pas en "
            "Île-de-France : qmi_geo diagnostique les communes d'Île-de-France (dont les 130 "
            "communes de la Métropole du Grand Paris)."
        )
    if slug in {_normal_slug(n) for n in france["nom"]}:
        raise UnknownCommuneError(f"« {key} » n'est pas une commune d'Île-de-France.")
    close = [s for s in by_slug if slug and s.startswith(slug)][:3]
    close += difflib.get_close_matches(slug, by_slug, n=3 - len(close))
    close = list(dict.fromkeys(close))
    hint = (
        " Vouliez-vous dire : " + ", ".join(communes[by_slug[c]] for c in close) + " ?"
        if close
        else ""
    )
    raise UnknownCommuneError(
        f"Commune ou fichier inconnu : « {key} ». Donnez un fichier diagnostics/<commune>.toml,"
        f" un code INSEE (ex. 93005) ou un nom de commune d'Île-de-France.{hint}"
    )


def find_specs(folder: Path | None = None) -> list[Path]:
    """The spec files of the workspace's ``diagnostics/`` folder, sorted.

    Outside a workspace (no ``diagnostics/`` folder here or above), the specs bundled with
    the programme's layers are used, so ``qmi compare --all`` works from any folder.
    """
    if folder is not None:
        return sorted(folder.glob("*.toml"))
    found = sorted((settings.resolved_workspace() / "diagnostics").glob("*.toml"))
    if found:
        return found
    return sorted((bundled_layers_dir().parent / "diagnostics").glob("*.toml"))


def load_spec(spec: str | Path) -> DiagnosticSpec:
    """Load a spec from a TOML file, or find it from a commune name or INSEE code.

    When no spec file exists for a known commune of Île-de-France, a default spec is built
    (the commune as perimeter, region-wide layers), so any commune can be diagnosed at once.
    """
    path = Path(spec)
    if path.suffix.lower() == ".toml" or path.exists():
        if not path.exists():
            raise SpecError(
                f"Fichier de diagnostic introuvable : {path}. Les fichiers existants sont dans "
                "diagnostics/ (qmi layers list les montre) ; pour une nouvelle commune, copiez "
                "l'un d'eux et changez « insee » et « name »."
            )
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"{path.name} : TOML invalide ({exc}).") from None
        except UnicodeDecodeError:
            raise SpecError(f"{path.name} : le fichier doit être encodé en UTF-8.") from None
        return _parse(data, path.resolve(), path.resolve().parent)
    key = str(spec).strip()
    for candidate in find_specs():
        try:
            head = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        if key in (str(head.get("insee")), head.get("name")) or slugify(key) == candidate.stem:
            return _parse(head, candidate.resolve(), candidate.resolve().parent)
    insee = resolve_commune(key)
    communes = _commune_names()
    workspace = settings.resolved_workspace()
    base = workspace / "diagnostics" if (workspace / "diagnostics").is_dir() else workspace
    return _parse({"insee": insee, "name": communes[insee]}, None, base)
