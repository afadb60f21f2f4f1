"""Comparison of quarters: one row per quarter, one column per indicator.

:func:`compare_quarters` puts the long indicator tables of several quarters side by side;
:func:`write_comparison` writes the CSV (Excel in French), a notes CSV with the reason of
every missing value, bar charts of the key indicators (matplotlib, PNG) and a self-contained
HTML page (charts embedded) to ``maps/comparaison/``.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from qmi_geo._atomic import write_bytes, write_csv, write_text
from qmi_geo._credits import split_credits
from qmi_geo.diagnostics._rows import UNAVAILABLE

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "KEY_INDICATORS",
    "compare_quarters",
    "comparison_notes",
    "distinct_rows",
    "plot_indicator",
    "write_comparison",
]

#: Indicators drawn as bar charts, in this order.
KEY_INDICATORS = (
    "surface_km2",
    "population",
    "revenu_median",
    "part_qpv",
    "part_impermeable",
    "densite_coupures",
    "franchissements",
    "ratio_detour",
    "part_nuisances_2plus",
    "distance_gare",
    "distance_gare_gpe",
    "rues_citees",
    "part_negative",
)

THEME_ORDER = (
    "Contexte",
    "QPV",
    "Surfaces minéralisées",
    "Coupures",
    "Nuisances",
    "Perceptions",
    "Sites",
)


def _header(libelle: str, unite: str) -> str:
    return f"{libelle} ({unite})" if unite else libelle


def _catalogue(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per indicator code (theme, label, unit), in theme then first-seen order."""
    allrows = pd.concat(
        [t[["code", "theme", "libelle", "unite"]] for t in tables.values()], ignore_index=True
    ).drop_duplicates("code")
    rank = {t: i for i, t in enumerate(THEME_ORDER)}
    allrows["_t"] = allrows["theme"].map(rank).fillna(len(rank))
    allrows["_o"] = range(len(allrows))
    return allrows.sort_values(["_t", "_o"]).drop(columns=["_t", "_o"]).reset_index(drop=True)


def compare_quarters(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Put the indicator tables of several quarters side by side.

    Parameters
    ----------
    tables
        Quarter name → long indicator table (:func:`~qmi_geo.diagnostics.compute_indicators`).

    Returns
    -------
    pandas.DataFrame
        One row per quarter (index « Quartier »), one column per indicator headed
        « libellé (unité) »; NaN where the value is not available (see
        :func:`comparison_notes` for the reasons).

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame(
    ...     {
    ...         "code": ["part_qpv"],
    ...         "theme": ["QPV"],
    ...         "libelle": ["Part du quartier en QPV"],
    ...         "valeur": [50.0],
    ...         "unite": ["%"],
    ...         "statut": ["ok"],
    ...         "note": [""],
    ...         "source": ["ANCT"],
    ...     }
    ... )
    >>> b = a.assign(valeur=[float("nan")], statut=["non disponible"])
    >>> compare_quarters({"A": a, "B": b})["Part du quartier en QPV (%)"].tolist()
    [50.0, nan]
    """
    cat = _catalogue(tables)
    data = {}
    for name, table in tables.items():
        vals = table.drop_duplicates("code").set_index("code")["valeur"].astype(float)
        data[name] = vals.reindex(cat["code"])
    wide = pd.DataFrame(data).T
    wide.columns = [_header(lbl, u) for lbl, u in zip(cat["libelle"], cat["unite"], strict=True)]
    wide.index.name = "Quartier"
    return wide


def comparison_notes(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Status, note and source of every (quarter, indicator), missing ones with a reason.

    An indicator that a quarter does not have at all (a site kind absent there) is listed
    as « non disponible » with that reason.

    Returns
    -------
    pandas.DataFrame
        Columns ``Quartier``, ``Code``, ``Indicateur``, ``Statut``, ``Note``, ``Source``.
    """
    cat = _catalogue(tables)
    rows = []
    for name, table in tables.items():
        by_code = table.drop_duplicates("code").set_index("code")
        for code, lbl in zip(cat["code"], cat["libelle"], strict=True):
            if code in by_code.index:
                r = by_code.loc[code]
                rows.append((name, code, lbl, r["statut"], r["note"], r["source"]))
            else:
                rows.append(
                    (
                        name,
                        code,
                        lbl,
                        UNAVAILABLE,
                        "indicateur sans objet pour ce quartier (aucune donnée de ce type)",
                        "",
                    )
                )
    return pd.DataFrame(
        rows, columns=["Quartier", "Code", "Indicateur", "Statut", "Note", "Source"]
    )


def plot_indicator(
    values: pd.Series, *, title: str, source: str = "", ax: Axes | None = None
) -> Figure:
    """Bar chart of one indicator across quarters; missing values are marked « n.d. ».

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (the caller saves and closes it).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if ax is None:
        fig, axis = plt.subplots(figsize=(6.4, 3.6), dpi=110)
    else:
        axis = ax
        fig = cast("Figure", axis.get_figure())
    names = [str(n) for n in values.index]
    vals = values.to_numpy(dtype=float)
    heights = np.nan_to_num(vals)
    bars = axis.bar(names, heights, color="#2b8cbe", edgecolor="#08519c")
    top = np.nanmax(vals) if np.isfinite(vals).any() else 1.0
    for bar, v in zip(bars, vals, strict=True):
        x = bar.get_x() + bar.get_width() / 2
        if np.isnan(v):
            bar.set_hatch("//")
            bar.set_facecolor("white")
            axis.text(
                x,
                0.02 * top,
                "n.d.",
                ha="center",
                va="bottom",
                fontsize=8,
                color="#b30000",
            )
        else:
            label = f"{v:,.0f}".replace(",", "\u202f") if abs(v) >= 100 else f"{v:.2g}"
            if abs(v) < 100 and abs(v) >= 10:
                label = f"{v:.0f}"
            axis.text(x, v, label, ha="center", va="bottom", fontsize=8)
    axis.set_title(title, fontsize=10)
    axis.tick_params(axis="x", labelrotation=20, labelsize=8)
    axis.tick_params(axis="y", labelsize=8)
    axis.spines[["top", "right"]].set_visible(False)
    if source:
        short = source if len(source) < 110 else source[:107] + "…"
        axis.annotate(
            f"Source : {short}",
            xy=(0, 0),
            xycoords="figure fraction",
            xytext=(4, 2),
            textcoords="offset points",
            fontsize=6,
            color="#555555",
        )
    if ax is None:
        fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def _sources_of(tables: Mapping[str, pd.DataFrame], code: str) -> str:
    seen: list[str] = []
    for table in tables.values():
        for text in table.loc[table["code"] == code, "source"]:
            for part in split_credits(str(text)):
                if part and part not in seen:
                    seen.append(part)
    return " ; ".join(seen)


def _csv(frame: pd.DataFrame, path: Path, *, index: bool) -> Path:
    return write_csv(frame, path, index=index, float_format="%.6g", decimal=",")


def write_comparison(
    tables: Mapping[str, pd.DataFrame],
    out_dir: str | Path,
    *,
    title: str | None = None,
    thumbnails: Mapping[str, bytes] | None = None,
    links: Mapping[str, Mapping[str, str | None]] | None = None,
    scale_note: str = "",
) -> dict[str, Path]:
    """Write the comparison of quarters: CSV, notes CSV, PNG charts and an HTML page.

    Parameters
    ----------
    tables
        Quarter name → long indicator table.
    out_dir
        Output folder (created), usually ``maps/comparaison/``.
    title
        Page title (default « Comparaison des quartiers d'innovation »).
    thumbnails
        Quarter name → PNG of its thumbnail map (all at the same scale), shown on the page.
    links
        Quarter name → ``{"carte": href, "rapport": href}`` (relative to ``out_dir``; None
        when the file was not produced yet).
    scale_note
        Caption of the thumbnails (their common scale).

    Returns
    -------
    dict of str to pathlib.Path
        ``csv``, ``notes``, ``html`` and one ``graphique_<code>`` per chart.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    charts_dir = out / "graphiques"
    charts_dir.mkdir(parents=True, exist_ok=True)
    wide = compare_quarters(tables)
    notes = comparison_notes(tables)
    cat = _catalogue(tables)
    files: dict[str, Path] = {}
    files["csv"] = _csv(
        wide.round(3).astype(object).where(wide.notna(), UNAVAILABLE),
        out / "comparaison.csv",
        index=True,
    )
    files["notes"] = _csv(notes, out / "comparaison_notes.csv", index=False)
    header_of = {
        c: _header(lbl, u)
        for c, lbl, u in zip(cat["code"], cat["libelle"], cat["unite"], strict=True)
    }
    charts: list[tuple[str, str, bytes]] = []
    for code in KEY_INDICATORS:
        if code not in header_of or wide[header_of[code]].isna().all():
            continue  # nothing to draw: the table says why
        fig = plot_indicator(
            wide[header_of[code]], title=header_of[code], source=_sources_of(tables, code)
        )
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        path = charts_dir / f"{code}.png"
        write_bytes(path, buf.getvalue())
        files[f"graphique_{code}"] = path
        charts.append((code, header_of[code], buf.getvalue()))
    page = _html_page(
        tables,
        cat,
        notes,
        charts,
        title or "Comparaison des quartiers d'innovation",
        thumbnails=thumbnails or {},
        links=links or {},
        scale_note=scale_note,
    )
    files["html"] = out / "comparaison.html"
    write_text(files["html"], page)
    return files


def _fmt(value: float, unite: str) -> str:
    if unite in ("m", "m²", "habitants", "€ par UC"):
        return f"{value:,.0f}".replace(",", "\u202f")
    if unite == "%":
        return f"{value:.1f}\u202f%".replace(".", ",")
    if abs(value) >= 1000:
        return f"{value:,.0f}".replace(",", "\u202f")
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.2f}".replace(".", ",")


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.5rem} h2{font-size:1.15rem;margin-top:2rem;border-bottom:2px solid #d95f02}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top}
thead th{background:#f0f0f0;position:sticky;top:0}
td.v{text-align:right;white-space:nowrap} td.nd{color:#b30000;font-style:italic;text-align:center}
td.est{color:#555} tr.theme th{background:#fbe3d3;text-align:left}
th[scope=row]{text-align:left} .src{font-size:.75rem;color:#555;font-weight:normal}
.charts{display:flex;flex-wrap:wrap;gap:1rem}
.charts figure{margin:0;border:1px solid #ddd;padding:.3rem;background:#fff}
.charts img{max-width:480px;width:100%} figcaption{font-size:.75rem;color:#555;max-width:480px}
.legend{font-size:.8rem;color:#444}
.vignettes{display:flex;flex-wrap:wrap;gap:1rem}
.vignette{margin:0;border:1px solid #ddd;padding:.3rem;background:#fff;width:260px}
.vignette img{width:100%;display:block} .vignette figcaption{font-size:.85rem}
sup .note{font-size:.7rem;text-decoration:none;margin-left:1px} .rang{font-size:.7rem;color:#555}
td.ref{background:#f6f6f6} .sources{font-size:.8rem;color:#333}
"""


#: Columns of the indicator table carrying the Métropole's reference (metropolitan stage).
_MEDIAN = ("mediane_metropole", "metropole_mediane", "mediane_mgp", "valeur_metropole")
_RANK = ("rang_metropole", "metropole_rang", "rang_mgp")
_COUNT = ("n_metropole", "nb_communes_metropole", "metropole_n")


_COUNTS = frozenset({"nombre", "votes", "habitants"})


def _first_value(row: pd.Series | None, names: tuple[str, ...]) -> float | None:
    if row is None:
        return None
    for name in names:
        if name in row.index and pd.notna(row[name]):
            try:
                return float(row[name])
            except (TypeError, ValueError):
                continue
    return None


def distinct_rows(
    cat: pd.DataFrame, by: Mapping[str, pd.DataFrame]
) -> tuple[pd.DataFrame, dict[str, list[str]], list[str]]:
    """Drop rows that repeat another row and rows with no value anywhere.

    Two measures (not counts) with the same unit and the same values in every quarter (known
    in at least two quarters, one of them non-zero) are one row: the second's label is listed
    under the first. An indicator with no value in any quarter is left out of the table (its
    reasons stay in the table of missing values).

    Returns
    -------
    tuple
        The kept catalogue rows, code → labels merged into it, codes left out.
    """
    kept: list[int] = []
    merged: dict[str, list[str]] = {}
    empty: list[str] = []
    seen: dict[tuple[str, tuple[float | None, ...]], str] = {}
    for i, (code, label, unit) in enumerate(
        zip(cat["code"], cat["libelle"], cat["unite"], strict=True)
    ):
        values: list[float | None] = []
        for t in by.values():
            v = t.loc[code, "valeur"] if code in t.index else None
            values.append(None if v is None or pd.isna(v) else round(float(v), 6))
        if all(v is None for v in values):
            empty.append(code)
            continue
        key = (str(unit), tuple(values))
        known = [v for v in values if v is not None]
        # measures (not counts, which coincide by chance) equal in at least two quarters
        same = len(known) >= 2 and any(v != 0.0 for v in known) and unit not in _COUNTS
        if key in seen and same:
            merged.setdefault(seen[key], []).append(str(label))
            continue
        seen.setdefault(key, code)
        kept.append(i)
    return cat.iloc[kept].reset_index(drop=True), merged, empty


def _unit_text(unit: str) -> str:
    return "" if unit in ("nombre", "") else unit


def _html_page(
    tables: Mapping[str, pd.DataFrame],
    cat: pd.DataFrame,
    notes: pd.DataFrame,
    charts: list[tuple[str, str, bytes]],
    title: str,
    *,
    thumbnails: Mapping[str, bytes] | None = None,
    links: Mapping[str, Mapping[str, str | None]] | None = None,
    scale_note: str = "",
) -> str:
    esc = html.escape
    thumbnails = thumbnails or {}
    links = links or {}
    names = list(tables)
    by = {n: t.drop_duplicates("code").set_index("code") for n, t in tables.items()}
    rows, merged, empty = distinct_rows(cat, by)
    # sources as numbered footnotes
    footnotes: list[str] = []

    def cite(code: str) -> str:
        marks = []
        for part in split_credits(_sources_of(tables, code)):
            part = part.strip()
            if not part:
                continue
            if part not in footnotes:
                footnotes.append(part)
            n = footnotes.index(part) + 1
            marks.append(f"<a href='#source-{n}' class='note'>{n}</a>")
        return f"<sup>{','.join(marks)}</sup>" if marks else ""

    has_reference = any(
        _first_value(t.loc[c] if c in t.index else None, _MEDIAN) is not None
        for t in by.values()
        for c in rows["code"]
    )
    head = "".join(f"<th scope='col'>{esc(n)}</th>" for n in names)
    if has_reference:
        head += "<th scope='col' class='ref'>Métropole (médiane)</th>"
    body: list[str] = []
    theme = None
    ncols = len(names) + 2 + int(has_reference)
    for code, th, lbl, unit in zip(
        rows["code"], rows["theme"], rows["libelle"], rows["unite"], strict=True
    ):
        if th != theme:
            theme = th
            body.append(f"<tr class='theme'><th colspan='{ncols}'>{esc(th)}</th></tr>")
        cells = []
        median: float | None = None
        for n in names:
            row = by[n].loc[code] if code in by[n].index else None
            median = median if median is not None else _first_value(row, _MEDIAN)
            if row is None or pd.isna(row["valeur"]):
                reason = (
                    row["note"] if row is not None else "indicateur sans objet pour ce quartier"
                )
                cells.append(f"<td class='nd' title='{esc(str(reason))}'>n.d.</td>")
            else:
                cls = "v est" if row["statut"] == "estimé" else "v"
                mark = "*" if row["statut"] == "estimé" else ""
                tip = esc(str(row["note"] or ""))
                rank = _first_value(row, _RANK)
                count = _first_value(row, _COUNT) or 130
                rank_txt = (
                    f"<div class='rang'>rang {int(rank)} / {int(count)}</div>"
                    if rank is not None
                    else ""
                )
                cells.append(
                    f"<td class='{cls}' title='{tip}'>"
                    f"{esc(_fmt(float(row['valeur']), unit))}{mark}{rank_txt}</td>"
                )
        if has_reference:
            cells.append(
                f"<td class='v ref'>{esc(_fmt(median, unit))}</td>"
                if median is not None
                else "<td class='nd' title='référence de la Métropole non calculée'>n.d.</td>"
            )
        also = merged.get(code, [])
        same = f"<div class='src'>même valeur que : {esc(' ; '.join(also))}</div>" if also else ""
        body.append(
            f"<tr><th scope='row'>{esc(lbl)}{cite(code)}{same}</th>"
            f"<td>{esc(_unit_text(str(unit)))}</td>{''.join(cells)}</tr>"
        )
    missing = notes[notes["Statut"] == UNAVAILABLE]
    miss_rows = "".join(
        f"<tr><td>{esc(r.Quartier)}</td><td>{esc(r.Indicateur)}</td><td>{esc(str(r.Note))}</td>"
        "</tr>"
        for r in missing.itertuples()
    )
    label_of = dict(zip(cat["code"], cat["libelle"], strict=True))
    empty_note = (
        "<p class='legend'>Non disponibles pour tous les quartiers (raisons ci-dessous) : "
        + esc(" ; ".join(str(label_of[c]) for c in empty))
        + ".</p>"
        if empty
        else ""
    )
    figs = "".join(
        f"<figure><img alt='{esc(t)}' src='data:image/png;base64,"
        f"{base64.b64encode(png).decode('ascii')}'><figcaption>{esc(t)}"
        f"{cite(code)}</figcaption></figure>"
        for code, t, png in charts
    )
    cards = []
    for n in names:
        img = thumbnails.get(n)
        pic = (
            f"<img alt='Carte du quartier de {esc(n)}' src='data:image/png;base64,"
            f"{base64.b64encode(img).decode('ascii')}'>"
            if img
            else "<p class='nd'>carte non disponible</p>"
        )
        ref = links.get(n, {})
        anchors = []
        for key, text in (("carte", "Carte sensible"), ("rapport", "Diagnostic")):
            href = ref.get(key)
            if href:
                anchors.append(f"<a href='{esc(href)}'>{text}</a>")
            else:
                anchors.append(
                    f"<span class='nd' title='lancez « qmi diagnose » pour ce quartier'>"
                    f"{text} : pas encore produite</span>"
                )
        cards.append(
            f"<figure class='vignette'>{pic}<figcaption><strong>{esc(n)}</strong><br>"
            f"{' · '.join(anchors)}</figcaption></figure>"
        )
    reference_note = (
        ""
        if has_reference
        else "<p class='legend'>Référence de la Métropole (médiane, rang parmi les 130 "
        "communes) : non disponible, le diagnostic métropolitain n'a pas été calculé.</p>"
    )
    notes_html = "".join(
        f"<li id='source-{i}'>{esc(text)}</li>" for i, text in enumerate(footnotes, start=1)
    )
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{esc(title)}</h1>
<p class="legend">{len(names)} quartiers. Valeurs marquées * : estimées (voir la note au survol).
« n.d. » : non disponible, la raison est donnée au survol et dans le tableau des valeurs
manquantes. Les sources sont numérotées en bas de page.</p>
<h2>Les quartiers</h2>
<div class="vignettes">{"".join(cards)}</div>
<p class="legend">{esc(scale_note)}</p>
<h2>Indicateurs clés</h2>
<div class="charts">{figs}</div>
<h2>Tableau des indicateurs</h2>
{reference_note}
<table><thead><tr><th scope='col'>Indicateur</th><th scope='col'>Unité</th>{head}</tr></thead>
<tbody>{"".join(body)}</tbody></table>
{empty_note}
<h2>Valeurs non disponibles et raisons</h2>
<table><thead><tr><th>Quartier</th><th>Indicateur</th><th>Raison</th></tr></thead>
<tbody>{miss_rows}</tbody></table>
<h2>Sources</h2>
<ol class="sources">{notes_html}</ol>
</body></html>
"""
