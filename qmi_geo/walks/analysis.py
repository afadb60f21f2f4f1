"""Where feelings concentrate: counts per theme, hot spots, density surface, context.

Per-annotation results follow the indicator contract of STYLE.md (aligned to the index of
the annotations, keyword-only options); :func:`theme_counts` and :func:`hotspots` are
aggregates for the reports and maps.

Hot spots are clusters found with DBSCAN (Ester, Kriegel, Sander & Xu, 1996, *A
density-based algorithm for discovering clusters in large spatial databases with noise*,
KDD-96) on Lambert-93 coordinates: an annotation with at least ``min_size`` annotations
within ``radius_m`` (itself included) is a core; clusters are the cores and their
neighbours. The density surface is a Gaussian kernel density estimate on a regular grid.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo._atomic import atomic_path
from qmi_geo.errors import CRSError
from qmi_geo.style import THEMES
from qmi_geo.walks._schema import CRS

__all__ = [
    "dbscan_labels",
    "density_surface",
    "hotspot_labels",
    "hotspots",
    "link_context",
    "theme_counts",
]


def _check_crs(gdf: gpd.GeoDataFrame, what: str) -> None:
    if gdf.crs is None or gdf.crs.to_epsg() != 2154:
        raise CRSError(
            f"{what} : système de coordonnées {gdf.crs} ; attendu EPSG:2154 (Lambert-93). "
            "Reprojetez la couche avant l'analyse (to_crs(2154))."
        )


def _anchor_xy(annotations: gpd.GeoDataFrame) -> np.ndarray:
    """One point per annotation (the point itself, or a point on the line or zone)."""
    return shapely.get_coordinates(_anchors(annotations))


def _anchors(annotations: gpd.GeoDataFrame) -> np.ndarray:
    """Points stay themselves; lines and zones get a point on them (object array)."""
    geoms = np.asarray(annotations.geometry.array)
    shaped = shapely.get_type_id(geoms) != 0
    if not shaped.any():
        return geoms
    out = geoms.copy()
    out[shaped] = shapely.point_on_surface(geoms[shaped])
    return out


def theme_counts(annotations: gpd.GeoDataFrame) -> pd.DataFrame:
    """Number of annotations per theme and valence, with mean intensity.

    Annotations flagged ``doublon`` are left out.

    Returns
    -------
    pandas.DataFrame
        Indexed by theme code, sorted by decreasing count; columns ``libelle`` (French
        label), ``n_annotations``, ``negatif``, ``neutre``, ``positif``, ``part_negative``
        (0–1), ``intensite_moyenne`` and ``poids_total``.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> ann = gpd.GeoDataFrame(
    ...     {
    ...         "theme": ["chaleur", "chaleur", "bruit"],
    ...         "valence": ["negatif", "positif", "negatif"],
    ...         "intensite": pd.array([3, 1, None], dtype="Int64"),
    ...         "poids": [1.0, 1.0, 1.0],
    ...         "signalements": ["", "", ""],
    ...     },
    ...     geometry=[Point(0, 0)] * 3,
    ...     crs=2154,
    ... )
    >>> counts = theme_counts(ann)
    >>> counts.index.tolist(), counts["n_annotations"].tolist(), counts["negatif"].tolist()
    (['chaleur', 'bruit'], [2, 1], [1, 1])
    >>> float(counts.loc["chaleur", "intensite_moyenne"])
    2.0
    """
    ann = _without_duplicates(annotations)
    columns = [
        "libelle",
        "n_annotations",
        "negatif",
        "neutre",
        "positif",
        "part_negative",
        "intensite_moyenne",
        "poids_total",
    ]
    if ann.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="theme"))
    valences = pd.crosstab(ann["theme"], ann["valence"]).reindex(
        columns=["negatif", "neutre", "positif"], fill_value=0
    )
    grouped = ann.groupby("theme")
    out = pd.DataFrame(
        {
            "n_annotations": grouped.size(),
            "intensite_moyenne": grouped["intensite"].apply(
                lambda s: pd.to_numeric(s, errors="coerce").astype("float64").mean()
            ),
            "poids_total": grouped["poids"].sum().astype(float),
        }
    ).join(valences)
    out["part_negative"] = out["negatif"] / out["n_annotations"]
    out["libelle"] = [THEMES[t].label if t in THEMES else t for t in out.index]
    out.index.name = "theme"
    return out[columns].sort_values(["n_annotations", "poids_total"], ascending=False)


def _without_duplicates(annotations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "signalements" not in annotations.columns:
        return annotations
    flags = annotations["signalements"].astype(object).fillna("").astype(str)
    return annotations[~flags.str.contains(r"(?:^|;)doublon(?:;|$)", regex=True)]


def dbscan_labels(xy: np.ndarray, *, eps: float, min_samples: int) -> np.ndarray:
    """DBSCAN cluster of each point (``-1`` for noise), the labels scikit-learn gives.

    A point with at least ``min_samples`` points within ``eps`` (itself included, distance
    ``<= eps``) is a core; cores closer than ``eps`` are in the same cluster (connected
    components of the core graph); a non-core point within ``eps`` of a core is a border
    point and joins the first such cluster; the rest is noise. Clusters are numbered in the
    order of their first core, and a border point reached by several clusters gets the
    lowest number: exactly what ``sklearn.cluster.DBSCAN(...).fit_predict`` returns, with a
    scipy k-d tree (``query_pairs``) and sparse connected components instead of importing
    scikit-learn (1–2 s) to cluster a few hundred points.

    Parameters
    ----------
    xy : numpy.ndarray
        Coordinates, shape ``(n, 2)``.
    eps : float
        Neighbourhood radius.
    min_samples : int
        Points within ``eps`` (the point included) that make a core.

    Returns
    -------
    numpy.ndarray
        ``int64`` labels, shape ``(n,)``: ``0, 1, ...`` per cluster, ``-1`` for noise.

    Examples
    --------
    >>> xy = np.array([[0, 0], [1, 0], [2, 0], [3, 0], [9, 9], [20, 0], [21, 0], [22, 0]])
    >>> dbscan_labels(xy, eps=1.0, min_samples=3).tolist()
    [0, 0, 0, 0, -1, 1, 1, 1]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    xy = np.asarray(xy, dtype="float64")
    n = len(xy)
    labels = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels
    pairs = cKDTree(xy).query_pairs(r=eps, output_type="ndarray")
    a, b = pairs[:, 0], pairs[:, 1]
    counts = 1 + np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    core = counts >= min_samples
    if not core.any():
        return labels
    both = core[a] & core[b]
    graph = coo_matrix((np.ones(int(both.sum()), dtype=np.int8), (a[both], b[both])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    # number the clusters by their first core, as scikit-learn's index-order expansion does
    cores = np.flatnonzero(core)
    _, first = np.unique(component[cores], return_index=True)
    rank = np.empty(component.max() + 1, dtype=np.int64)
    rank[component[cores[np.sort(first)]]] = np.arange(len(first))
    labels[cores] = rank[component[cores]]
    # border points: the lowest-numbered cluster among their core neighbours
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    edge = ~core[src] & core[dst]
    if edge.any():
        border = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(border, src[edge], labels[dst[edge]])
        reached = border < np.iinfo(np.int64).max
        labels[reached] = border[reached]
    return labels


def hotspot_labels(
    annotations: gpd.GeoDataFrame,
    *,
    radius_m: float = 150,
    min_size: int = 4,
    by_theme: bool = True,
) -> pd.Series:
    """Hot spot of each annotation (DBSCAN in metres), aligned to ``annotations.index``.

    Parameters
    ----------
    annotations : geopandas.GeoDataFrame
        Annotations in EPSG:2154.
    radius_m : float
        Neighbourhood radius (DBSCAN ``eps``), in metres.
    min_size : int
        Annotations needed within ``radius_m`` to make a core (DBSCAN ``min_samples``).
    by_theme : bool
        Cluster each theme separately (labels are then ``"<theme>-<n>"``), or all together
        (``"tous-<n>"``).

    Returns
    -------
    pandas.Series
        Named ``point_chaud``; the hot spot label, missing (NaN) for annotations in none.
        Annotations flagged ``doublon`` are in none.
    """
    _check_crs(annotations, "Annotations")
    labels = pd.Series(None, index=annotations.index, dtype=object, name="point_chaud")
    kept = _without_duplicates(annotations)
    if kept.empty:
        return labels
    xy = _anchor_xy(kept)
    groups = kept["theme"].astype(str).to_numpy() if by_theme else np.full(len(kept), "tous")
    codes, names = pd.factorize(groups)  # themes in order of first appearance
    found = np.full(len(kept), -1, dtype=np.int64)
    for g in range(len(names)):
        mask = codes == g
        if mask.sum() < min_size:
            continue
        found[mask] = dbscan_labels(xy[mask], eps=radius_m, min_samples=min_size)
    hit = found >= 0
    if hit.any():
        width = int(found.max()) + 1
        inverse, uniq = pd.factorize(codes[hit].astype(np.int64) * width + found[hit])
        text = np.array(
            [f"{names[g // width]}-{g % width + 1}" for g in uniq.tolist()], dtype=object
        )
        values = np.full(len(kept), None, dtype=object)
        values[hit] = text[inverse]
        labels.loc[kept.index] = values
    return labels


def hotspots(
    annotations: gpd.GeoDataFrame,
    *,
    radius_m: float = 150,
    min_size: int = 4,
    by_theme: bool = True,
) -> gpd.GeoDataFrame:
    """Hot spots: where annotations cluster, as polygons with their member counts.

    Each hot spot is the convex hull of its annotations buffered by ``radius_m / 2``.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:2154; columns ``point_chaud`` (label), ``theme`` (the clustered theme, or
        ``"tous"``), ``n_annotations``, ``theme_dominant``, ``part_negative`` (0–1),
        ``intensite_moyenne``, ``poids_total``; sorted by decreasing size.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> pts = [Point(652000 + 20 * i, 6866000) for i in range(5)] + [Point(660000, 6870000)]
    >>> ann = gpd.GeoDataFrame(
    ...     {
    ...         "theme": ["chaleur"] * 6,
    ...         "valence": ["negatif"] * 6,
    ...         "intensite": [3] * 6,
    ...         "poids": [1.0] * 6,
    ...         "signalements": [""] * 6,
    ...     },
    ...     geometry=pts,
    ...     crs=2154,
    ... )
    >>> spots = hotspots(ann, radius_m=50, min_size=3)
    >>> spots[["theme", "n_annotations", "part_negative"]].values.tolist()
    [['chaleur', 5, 1.0]]
    """
    columns = [
        "point_chaud",
        "theme",
        "n_annotations",
        "theme_dominant",
        "part_negative",
        "intensite_moyenne",
        "poids_total",
    ]
    labels = hotspot_labels(annotations, radius_m=radius_m, min_size=min_size, by_theme=by_theme)
    members = annotations[labels.notna()].assign(point_chaud=labels[labels.notna()])
    if members.empty:
        return gpd.GeoDataFrame(columns=columns, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    spot, names = pd.factorize(members["point_chaud"])  # order of first appearance
    k = len(names)
    order = np.argsort(spot, kind="stable")
    hulls = shapely.convex_hull(shapely.multipoints(_anchors(members)[order], indices=spot[order]))
    size = np.bincount(spot, minlength=k)
    negative = np.bincount(
        spot, weights=(members["valence"] == "negatif").to_numpy(float), minlength=k
    )
    intensity = pd.to_numeric(members["intensite"], errors="coerce").astype("float64")
    given = intensity.notna().to_numpy()
    total = np.bincount(spot[given], weights=intensity.to_numpy()[given], minlength=k)
    counted = np.bincount(spot[given], minlength=k)
    weight = pd.to_numeric(members["poids"], errors="coerce").fillna(0).to_numpy(float)
    per_theme = members.groupby([spot, members["theme"].to_numpy()], sort=False).size()
    dominant = per_theme.groupby(level=0, sort=False).idxmax().sort_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_intensity = total / counted
    out = gpd.GeoDataFrame(
        {
            "point_chaud": np.asarray(names, dtype=object),
            "theme": [str(label).rsplit("-", 1)[0] for label in names],
            "n_annotations": size,
            "theme_dominant": [pair[1] for pair in dominant.to_numpy()],
            "part_negative": negative / size,
            "intensite_moyenne": np.where(counted > 0, mean_intensity, np.nan),
            "poids_total": np.bincount(spot, weights=weight, minlength=k),
        },
        geometry=shapely.buffer(hulls, radius_m / 2),
        crs=CRS,
    )
    out = out.sort_values("n_annotations", ascending=False, kind="stable")
    return out.reset_index(drop=True)[[*columns, "geometry"]]


def density_surface(
    annotations: gpd.GeoDataFrame,
    path: str | Path,
    *,
    cell_m: float = 25,
    bandwidth_m: float = 150,
    bounds: tuple[float, float, float, float] | None = None,
    weight: str | None = "poids",
) -> Path:
    """Write a kernel density surface of the annotations as a GeoTIFF (EPSG:2154).

    Annotations are binned on a grid of ``cell_m`` metres (lines are sampled every
    ``cell_m`` with their weight shared along them), then smoothed with a Gaussian kernel
    of standard deviation ``bandwidth_m``. Values are weighted annotations per km².

    Parameters
    ----------
    annotations : geopandas.GeoDataFrame
        EPSG:2154. Annotations flagged ``doublon`` are left out.
    path : str or pathlib.Path
        The GeoTIFF to write (float32, one band, LZW-compressed).
    cell_m, bandwidth_m : float
        Cell size and kernel bandwidth, in metres.
    bounds : tuple of float, optional
        (xmin, ymin, xmax, ymax) of the grid; default: the annotations' extent plus three
        bandwidths.
    weight : str or None
        Column of weights (``poids``: FUB votes), or None to count annotations.

    Returns
    -------
    pathlib.Path
    """
    import rasterio
    from rasterio.transform import from_origin
    from scipy.ndimage import gaussian_filter

    _check_crs(annotations, "Annotations")
    ann = _without_duplicates(annotations)
    ann = ann[~(ann.geometry.isna() | ann.geometry.is_empty)]
    w = (
        pd.to_numeric(ann[weight], errors="coerce").fillna(1.0).to_numpy(float)
        if weight and weight in ann.columns
        else np.ones(len(ann))
    )
    xs, ys, ws = _sample_points(ann.geometry.array, w, cell_m)
    if bounds is None:
        if len(xs) == 0:
            raise ValueError(
                "Aucune annotation : impossible de calculer une densité sans "
                "bornes (passez bounds=...)."
            )
        pad = 3 * bandwidth_m
        bounds = (xs.min() - pad, ys.min() - pad, xs.max() + pad, ys.max() + pad)
    xmin, ymin, xmax, ymax = bounds
    xmin = np.floor(xmin / cell_m) * cell_m
    ymax = np.ceil(ymax / cell_m) * cell_m
    ncols = max(1, int(np.ceil((xmax - xmin) / cell_m)))
    nrows = max(1, int(np.ceil((ymax - ymin) / cell_m)))
    col = np.floor((xs - xmin) / cell_m).astype(int)
    row = np.floor((ymax - ys) / cell_m).astype(int)
    ok = (col >= 0) & (col < ncols) & (row >= 0) & (row < nrows)
    grid = np.zeros((nrows, ncols), dtype="float64")
    np.add.at(grid, (row[ok], col[ok]), ws[ok])
    density = gaussian_filter(grid, sigma=bandwidth_m / cell_m, mode="constant")
    density *= 1e6 / (cell_m * cell_m)  # per km²
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "height": nrows,
        "width": ncols,
        "count": 1,
        "dtype": "float32",
        "crs": CRS,
        "compress": "lzw",
        "transform": from_origin(xmin, ymax, cell_m, cell_m),
    }
    with atomic_path(out) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(density.astype("float32"), 1)
        dst.set_band_description(1, "Densité de ressentis (annotations pondérées par km²)")
        dst.update_tags(
            source="qmi_geo.walks.density_surface",
            cellule_m=str(cell_m),
            rayon_noyau_m=str(bandwidth_m),
            poids=str(weight or "aucun"),
        )
    return out


def _sample_points(
    geoms: np.ndarray, weights: np.ndarray, step: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points of the geometries (lines sampled every ``step``) with their weights."""
    geoms = np.asarray(geoms)
    kind = shapely.get_type_id(geoms)
    linear = np.isin(kind, (1, 5))
    pts = np.asarray(shapely.point_on_surface(geoms[~linear]))
    xs = [shapely.get_x(pts)]
    ys = [shapely.get_y(pts)]
    ws = [weights[~linear]]
    for geom, w in zip(geoms[linear], weights[linear], strict=True):
        n = max(1, int(np.ceil(shapely.length(geom) / step)))
        sample = shapely.line_interpolate_point(geom, np.linspace(0, 1, n), normalized=True)
        xs.append(shapely.get_x(sample))
        ys.append(shapely.get_y(sample))
        ws.append(np.full(n, w / n))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)


def _nearest(
    points: np.ndarray,
    index: pd.Index,
    layer: gpd.GeoDataFrame,
    name_cols: tuple[str, ...],
    what: str,
) -> tuple[pd.Series, pd.Series]:
    """Name of and distance to the nearest feature of ``layer`` for each point (ties: first).

    The first of equidistant features in the order the layer's STRtree returns them, as
    ``geopandas.sjoin_nearest(..., how="left")`` keeps them, without its frames.
    """
    _check_crs(layer, what)
    name_col = next((c for c in name_cols if c in layer.columns), None)
    if name_col:
        names = layer[name_col].astype(object).where(layer[name_col].notna(), "").astype(str)
        labels = names.to_numpy(dtype=object)
    else:
        labels = np.full(len(layer), "", dtype=object)
    geoms = np.asarray(layer.geometry.values)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    nom = np.full(len(points), "", dtype=object)
    dist = np.full(len(points), np.nan)
    if usable.any():
        tree = shapely.STRtree(geoms[usable])
        (source, target), found = tree.query_nearest(points, all_matches=True, return_distance=True)
        source, first = np.unique(source, return_index=True)
        nom[source] = labels[usable][target[first]]
        dist[source] = found[first]
    return (
        pd.Series(nom, index=index).astype(str),
        pd.Series(dist, index=index, dtype=float).round(1),
    )


def link_context(
    annotations: gpd.GeoDataFrame,
    *,
    rues: gpd.GeoDataFrame | None = None,
    coupures: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    qpv: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Link each annotation to its context: nearest street, break, site, and QPV.

    Parameters
    ----------
    annotations : geopandas.GeoDataFrame
        EPSG:2154.
    rues, coupures, sites, qpv : geopandas.GeoDataFrame, optional
        Canonical layers in EPSG:2154 (a missing layer gives empty columns).

    Returns
    -------
    pandas.DataFrame
        Aligned to ``annotations.index``: ``rue_proche``, ``distance_rue_m``,
        ``coupure_proche`` (name, else type), ``distance_coupure_m``, ``site_proche``,
        ``distance_site_m``, ``dans_qpv`` (bool) and ``qpv`` (code of the QPV).

    Examples
    --------
    >>> from shapely.geometry import LineString, Point
    >>> ann = gpd.GeoDataFrame(geometry=[Point(0, 10)], crs=2154)
    >>> rues = gpd.GeoDataFrame(
    ...     {"nom": ["Rue de Paris"]}, geometry=[LineString([(-50, 0), (50, 0)])], crs=2154
    ... )
    >>> link_context(ann, rues=rues)[["rue_proche", "distance_rue_m", "dans_qpv"]]
         rue_proche  distance_rue_m  dans_qpv
    0  Rue de Paris            10.0     False
    """
    _check_crs(annotations, "Annotations")
    idx = annotations.index
    points = np.asarray(annotations.geometry.values)
    anchors = gpd.GeoDataFrame(geometry=points, index=idx, crs=annotations.crs)
    out = pd.DataFrame(index=idx)
    specs = (
        ("rue", rues, ("nom", "name"), "Rues"),
        ("coupure", coupures, ("nom", "type"), "Coupures"),
        ("site", sites, ("nom", "type"), "Sites"),
    )
    for key, layer, names, what in specs:
        if layer is None or layer.empty or anchors.empty:
            out[f"{key}_proche"] = ""
            out[f"distance_{key}_m"] = np.nan
            continue
        if key == "coupure" and "nom" in layer.columns and "type" in layer.columns:
            nom = layer["nom"].astype(object).where(layer["nom"].notna(), "").astype(str)
            layer = layer.assign(nom=nom.where(nom != "", layer["type"].astype(str)))
        out[f"{key}_proche"], out[f"distance_{key}_m"] = _nearest(points, idx, layer, names, what)
    out["dans_qpv"] = False
    out["qpv"] = ""
    if qpv is not None and not qpv.empty and not anchors.empty:
        _check_crs(qpv, "QPV")
        code = "code_qp" if "code_qp" in qpv.columns else None
        zones = gpd.GeoDataFrame(
            {"_code": qpv[code].astype(str) if code else "QPV"},
            geometry=qpv.geometry.to_numpy(),
            crs=qpv.crs,
        )
        hit = gpd.sjoin(anchors, zones, how="inner", predicate="intersects")
        hit = hit[~hit.index.duplicated(keep="first")]
        out.loc[hit.index, "dans_qpv"] = True
        out.loc[hit.index, "qpv"] = hit["_code"].astype(str)
    out["dans_qpv"] = out["dans_qpv"].astype(bool)
    return out
