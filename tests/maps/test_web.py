"""The carte sensible augmentée, checked by rendering it and parsing the HTML."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import pytest

from qmi_geo.errors import LayerError, QmiGeoError
from qmi_geo.maps import build_web_map
from qmi_geo.maps._assets import asset, inline_assets
from qmi_geo.style import LAYER_STYLES
from qmi_geo.walks.analysis import density_surface

from .conftest import XSS, make_annotations


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.scripts.append(a["src"] or "")
            else:
                self.inline_scripts += 1
        if tag == "link" and a.get("href"):
            self.links.append(a["href"] or "")


def _page_text(text: str) -> str:
    """What a reader sees: JSON \\u escapes and HTML entities decoded."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return html.unescape(text)


def _layer_control_names(text: str) -> list[str]:
    block = re.search(r"overlays\s*:\s*\{(.*?)\}", text, re.S)
    assert block, "no layer control in the page"
    return [
        html.unescape(json.loads(f'"{m}"'))
        for m in re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', block.group(1))
    ]


@pytest.fixture(scope="module")
def full_map(
    tmp_path_factory: pytest.TempPathFactory,
    aulnay_layers,
    perimeter,
    annotations,
    hotspots,
    sources,
    indicators,
) -> Path:
    out = tmp_path_factory.mktemp("web") / "carte_sensible.html"
    tif = density_surface(annotations, out.parent / "densite.tif", cell_m=50, bandwidth_m=150)
    routes = gpd.GeoDataFrame(
        {"marche": ["synthetique-1"]},
        geometry=[annotations.geometry.iloc[:20].union_all().convex_hull.exterior],
        crs=2154,
    )
    layers = {k: v for k, v in aulnay_layers.items() if k != "quartier"}
    return build_web_map(
        layers,
        perimeter=perimeter,
        title="Aulnay-sous-Bois <test>",
        out_path=out,
        annotations=annotations,
        routes=routes,
        hotspots=hotspots,
        density_tif=tif,
        indicators=indicators,
        sources=sources,
        slug="aulnay-sous-bois",
    )


def test_every_expected_layer_group_is_in_the_layer_control(full_map: Path) -> None:
    names = _layer_control_names(full_map.read_text(encoding="utf-8"))
    expected = [
        LAYER_STYLES[k].label
        for k in (
            "communes",
            "quartier",
            "qpv",
            "coupures",
            "gares",
            "sites",
            "rues_citees",
            "iris",
            "nuisances",
            "annotations",
            "parcours",
            "points_chauds",
            "defis",
        )
    ]
    for label in [*expected, "Densité des ressentis de la marche"]:
        assert label in names, f"{label!r} missing from {names}"


def test_no_remote_script_or_stylesheet_remains(full_map: Path) -> None:
    text = full_map.read_text(encoding="utf-8")
    refs = _Refs()
    refs.feed(text)
    assert refs.scripts == [], refs.scripts
    assert [h for h in refs.links if h.startswith(("http:", "https:", "//"))] == []
    assert refs.inline_scripts > 5
    assert "cdn.jsdelivr.net" not in text and "cdnjs.cloudflare.com" not in text


def _source_list(text: str) -> list[str]:
    """The credits of the « Sources (n) » panel, as a reader sees them."""
    block = re.search(
        r'<ul class="qmi-sources">(.*?)</ul>', _page_text(text).replace('\\"', '"'), re.S
    )
    assert block, "no list of sources in the page"
    return [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", block[1])]


def test_every_source_is_attributed_once_in_the_sources_panel(full_map: Path, sources) -> None:
    text = full_map.read_text(encoding="utf-8")
    listed = _source_list(text)
    for s in sources:
        for credit in s.attribution.split(" ; "):
            assert any(credit in item for item in listed), f"{credit!r} not credited"
    assert sum("OpenStreetMap" in item for item in listed) == 1  # FUB's credit included it
    assert "(données synthétiques)" in " ".join(listed)
    # the bar shows one short line and a button giving the count, not the whole list
    readable = _page_text(text)
    assert "Sources : IGN, INSEE, ANCT, IDFM, OSM…" in readable
    assert f">Sources ({len(listed)})</button>" in readable


def test_participant_text_is_escaped(full_map: Path) -> None:
    text = full_map.read_text(encoding="utf-8")
    assert XSS not in text
    assert "<script>window.__xss" not in text
    assert "<img src=x" not in text
    # but it is still there, as data the page shows as text
    assert "img src=x onerror=" in _page_text(text)
    # non-participant text passed by the caller is escaped too
    assert "Aulnay-sous-Bois &lt;test&gt;" in text
    assert "Parking <b>gare</b>" not in text


def test_coordinates_are_rounded_to_six_decimals(full_map: Path) -> None:
    text = full_map.read_text(encoding="utf-8")
    start = text.index('"points":[[') + len('"points":')
    first = json.loads(text[start : text.index("]", start) + 1] + "]")[0]
    for coord in first[:2]:
        assert len(repr(coord).split(".")[1]) <= 6


def test_indicators_and_legend_are_in_the_page(full_map: Path) -> None:
    text = _page_text(full_map.read_text(encoding="utf-8"))
    assert "Part du quartier en QPV" in text and "23,5\u202f%" in text
    assert 'aria-labelledby=\\"qmi-legende-titre' in text
    assert "Chaleur, îlot de chaleur" in text
    assert "Exporter les défis" in text


def test_pilot_commune_map_stays_under_five_megabytes(full_map: Path) -> None:
    assert full_map.stat().st_size < 5 * 1024 * 1024


def test_basemap_option_adds_tiles_and_attribution(tmp_path: Path, perimeter) -> None:
    out = build_web_map(
        {},
        perimeter=perimeter,
        title="t",
        out_path=tmp_path / "a.html",
        basemap="ign",
        drawing=False,
    )
    text = out.read_text(encoding="utf-8")
    assert "data.geopf.fr" in text and "Plan IGN" in html.unescape(text)
    plain = build_web_map(
        {}, perimeter=perimeter, title="t", out_path=tmp_path / "b.html", drawing=False
    ).read_text(encoding="utf-8")
    assert "tile.openstreetmap" not in plain and "data.geopf.fr" not in plain
    with pytest.raises(LayerError, match="Fond de carte inconnu"):
        build_web_map(
            {}, perimeter=perimeter, title="t", out_path=tmp_path / "c.html", basemap="google"
        )


def test_empty_perimeter_is_a_clear_error(tmp_path: Path, perimeter) -> None:
    with pytest.raises(LayerError, match="périmètre"):
        build_web_map({}, perimeter=perimeter.iloc[0:0], title="t", out_path=tmp_path / "x.html")


def test_unknown_remote_asset_is_refused() -> None:
    with pytest.raises(QmiGeoError, match="hors ligne"):
        inline_assets('<script src="https://example.org/evil.js"></script>')
    assert "</script" not in asset("qmi-asset:qmi_atelier.js").lower()


def test_large_annotation_sets_stay_compact(tmp_path: Path, perimeter) -> None:
    ann = make_annotations(perimeter, 20_000, seed=3)
    out = build_web_map(
        {},
        perimeter=perimeter,
        title="t",
        out_path=tmp_path / "big.html",
        annotations=ann,
        drawing=False,
    )
    # ~140 bytes per annotation including its comment, popups built lazily in the browser
    assert out.stat().st_size < 20_000 * 200 + 1_000_000


def test_a_quarter_with_no_walk_never_says_marche_sensible(
    tmp_path: Path, aulnay_layers, perimeter, sources
) -> None:
    """No walk: the FUB cited streets are drawn under their own name, never as the walk's."""
    from qmi_geo.walks.analysis import hotspots as find_hotspots
    from qmi_geo.walks.fub import annotations_from_rues_citees

    fub = annotations_from_rues_citees(aulnay_layers["rues_citees"])
    tif = density_surface(fub, tmp_path / "densite.tif", cell_m=50, bandwidth_m=150)
    spots = find_hotspots(fub, radius_m=400, min_size=2)
    layers = {k: v for k, v in aulnay_layers.items() if k != "quartier"}
    text = build_web_map(
        layers,
        perimeter=perimeter,
        title="Aulnay-sous-Bois",
        out_path=tmp_path / "sans_marche.html",
        annotations=fub,
        hotspots=spots,
        density_tif=tif,
        sources=[s for s in sources if s.name != "annotations"],
    ).read_text(encoding="utf-8")
    names = _layer_control_names(text)
    seen = _page_text(text)
    assert "Rues citées par les cyclistes (FUB 2017)" in names
    assert "Densité des rues citées par les cyclistes (FUB 2017)" in names
    assert not any("marche" in n.lower() for n in names), names
    legend = seen.split("qmi-legende", 1)[1].split("</section>", 1)[0]
    assert "Rues citées par les cyclistes (FUB 2017)" in legend
    assert "marche sensible" not in legend.lower()
    assert "Ressentis" not in re.findall(r"<h3>(.*?)</h3>", legend)
    assert "qmiAnnotationLayer" not in text  # the FUB streets are not drawn as a walk
    assert "marche sensible" not in seen.lower()


def test_panel_numbers_are_french_integers_with_words(tmp_path: Path, perimeter) -> None:
    import pandas as pd

    table = pd.DataFrame(
        {
            "code": ["population", "sites", "nb_qpv", "part_qpv"],
            "libelle": ["Population", "Sites de déploiement candidats", "Nombre de QPV", "QPV"],
            "valeur": [85497.2, 4.0, 1.0, 9.26631],
            "unite": ["habitants", "nombre", "nombre", "%"],
            "statut": ["estimé", "ok", "ok", "ok"],
            "note": ["", "", "", ""],
        }
    )
    text = _page_text(
        build_web_map(
            {}, perimeter=perimeter, title="t", out_path=tmp_path / "m.html", indicators=table
        ).read_text(encoding="utf-8")
    )
    assert "85\u202f497 habitants" in text and "85\u202f497,2" not in text
    assert "4 sites" in text and "1 QPV" in text and "nombre" not in text.split("qmi-panneau")[1]
    assert "9,3\u202f%" in text


def test_walk_photos_become_thumbnails_within_the_budget(tmp_path: Path, perimeter) -> None:
    from PIL import Image

    from qmi_geo.maps._annotations import annotation_payload
    from qmi_geo.maps._photos import THUMB_PX, photo_table

    folder = tmp_path / "marche"
    (folder / "attachments" / "uuid-1").mkdir(parents=True)
    Image.new("RGB", (2000, 1500), (200, 30, 30)).save(folder / "attachments/uuid-1/p1.jpg")
    Image.new("RGB", (800, 800), (30, 200, 30)).save(folder / "p2.png")
    ann = make_annotations(perimeter, 3)
    ann["photo"] = ["p1.jpg", "p2.png", "absente.jpg"]
    photos = annotation_payload(ann, [folder])["photos"]
    assert photos["p1.jpg"]["src"].startswith("data:image/jpeg;base64,")  # Kobo sub-folder
    assert max(photos["p1.jpg"]["w"], photos["p1.jpg"]["h"]) == THUMB_PX
    assert "src" in photos["p2.png"]
    assert "introuvable" in photos["absente.jpg"]["note"]
    tight = photo_table(["p1.jpg", "p2.png"], [folder], budget=len(photos["p1.jpg"]["src"]) // 2)
    assert "src" not in tight["p2.png"] and "taille maximale" in tight["p2.png"]["note"]


def test_panel_shows_the_metropole_reference_when_the_table_has_it(
    tmp_path: Path, perimeter
) -> None:
    import pandas as pd

    table = pd.DataFrame(
        {
            "code": ["part_qpv", "population"],
            "libelle": ["Part du quartier en QPV", "Population"],
            "valeur": [9.3, 85497.0],
            "unite": ["%", "habitants"],
            "statut": ["ok", "ok"],
            "note": ["", ""],
            "mediane_metropole": [4.0, None],
            "rang_metropole": [12, None],
        }
    )
    text = _page_text(
        build_web_map(
            {}, perimeter=perimeter, title="t", out_path=tmp_path / "m.html", indicators=table
        ).read_text(encoding="utf-8")
    )
    assert "Métropole : médiane 4,0\u202f%, rang 12/130" in text
    assert text.count("Métropole : ") == 1  # no made-up reference for population


def test_annotation_table_travels_as_a_json_block(tmp_path: Path, perimeter) -> None:
    # issue 13: the table is a <script type="application/json"> block read with JSON.parse
    # (quicker to load than the same data as a script literal); nothing in it can close it
    from qmi_geo.maps._annotations import annotation_payload

    ann = make_annotations(perimeter, 40)
    ann.loc[1, "commentaire"] = "</script><script>window.__xss=3</script> & <!-- x"
    out = build_web_map({}, perimeter=perimeter, title="t", out_path=tmp_path / "c.html",
                        annotations=ann, drawing=False)  # fmt: skip
    page = out.read_text(encoding="utf-8")
    found = re.findall(
        r'<script type="application/json" id="(qmi_annotations_\w+)_data">(.*?)</script>',
        page,
        re.S,
    )
    assert len(found) == 1
    name, block = found[0]
    assert "<" not in block and ">" not in block and "&" not in block
    assert json.loads(block) == json.loads(json.dumps(annotation_payload(ann)))
    assert f'JSON.parse(document.getElementById("{name}_data").textContent)' in page
