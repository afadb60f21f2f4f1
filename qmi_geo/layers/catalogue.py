"""The catalogue of layer sources: where each layer comes from, its licence and attribution."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomllib

from qmi_geo.errors import SpecError
from qmi_geo.layers._schemas import KINDS

__all__ = [
    "TABLE_KIND",
    "Source",
    "bundled_layers_dir",
    "load_catalogue",
    "load_tables",
    "source_from_mapping",
]

#: Catalogue entries that are attribute tables (per commune, per postal code), not layers.
TABLE_KIND = "table"


@dataclass(frozen=True)
class Source:
    """One layer source: a file (and layer) feeding one kind, with its provenance."""

    name: str
    kind: str
    path: Path
    layer: str | None = None
    where: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    constants: Mapping[str, Any] = field(default_factory=dict)
    filter_insee: str | None = None
    title: str = ""
    producer: str = ""
    licence: str = ""
    attribution: str = ""
    real: bool = True
    notes: str = ""
    #: where the source is complete: a named coverage, a list of them (intersection) or a
    #: polygon file; None for a user's file (its features' hull is used, see layers.extent)
    extent: str | tuple[str, ...] | None = None


_KEYS = {f.name for f in fields(Source)} - {"name"}


def bundled_layers_dir() -> Path:
    """The repository's ``layers/`` folder (the programme's bundled real data)."""
    from qmi_geo.settings import settings

    here = Path(__file__).resolve().parents[2] / "layers"
    if (here / "catalogue.toml").exists():
        return here
    return settings.resolved_workspace() / "layers"


def source_from_mapping(name: str, entry: Mapping[str, Any], base: Path, origin: str) -> Source:
    """Build a :class:`Source` from a TOML table, validating its keys."""
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise SpecError(
            f"{origin} : clé(s) inconnue(s) {', '.join(unknown)} pour la source « {name} » ; "
            f"clés possibles : {', '.join(sorted(_KEYS))}."
        )
    for key in ("kind", "path"):
        if key not in entry:
            raise SpecError(f"{origin} : la source « {name} » n'a pas de clé « {key} ».")
    if entry["kind"] not in KINDS and entry["kind"] != TABLE_KIND:
        raise SpecError(
            f"{origin} : type « {entry['kind']} » inconnu pour la source « {name} » ; types "
            f"possibles : {', '.join(KINDS)}."
        )
    values = dict(entry)
    values["path"] = (base / str(entry["path"])).resolve()
    extent = entry.get("extent")
    if isinstance(extent, list):
        values["extent"] = tuple(str(e) for e in extent)
    elif extent is not None and not isinstance(extent, str):
        raise SpecError(
            f"{origin} : « extent » de la source « {name} » doit être un nom de couverture, "
            "une liste de noms ou un fichier de polygones."
        )
    return Source(name=name, **values)


#: parsed catalogues: path -> ((mtime_ns, size), sources); a diagnostic reads the catalogue
#: a dozen times (spec, perimeter, coverage, tables...), each parse costing ≈ 17 ms
_PARSED: dict[Path, tuple[tuple[int, int], dict[str, Source]]] = {}


def _read_catalogue(path: Path | None) -> dict[str, Source]:
    path = path or bundled_layers_dir() / "catalogue.toml"
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise SpecError(f"Catalogue des couches introuvable : {path}.") from None
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _PARSED.get(path)
    if cached is not None and cached[0] == stamp:
        return dict(cached[1])  # Source is frozen: sharing them is safe
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"Catalogue des couches introuvable : {path}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path.name} : TOML invalide ({exc}).") from None
    sources = {
        name: source_from_mapping(name, entry, path.parent, path.name)
        for name, entry in data.items()
    }
    _PARSED[path] = (stamp, sources)
    return dict(sources)


def load_tables(path: Path | None = None) -> dict[str, Source]:
    """The catalogue's attribute tables (``kind = "table"``: per commune or postal code)."""
    return {n: s for n, s in _read_catalogue(path).items() if s.kind == TABLE_KIND}


def load_catalogue(path: Path | None = None) -> dict[str, Source]:
    """Read ``layers/catalogue.toml`` into :class:`Source` objects keyed by name.

    Attribute tables (``kind = "table"``) are left out: see :func:`load_tables`.

    Examples
    --------
    >>> cat = load_catalogue()
    >>> cat["qpv2024"].kind, cat["qpv2024"].attribution
    ('qpv', 'ANCT – Quartiers prioritaires de la politique de la ville 2024')
    >>> cat["qpv2024"].extent
    'ile-de-france'
    """
    return {n: s for n, s in _read_catalogue(path).items() if s.kind != TABLE_KIND}
