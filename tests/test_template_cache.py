"""Compiled jinja2 templates are reused across processes, never for a different template."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from qmi_geo._templates import cache_dir, install


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    install()
    return cache_dir()


def test_a_template_is_compiled_once_then_read_back(cache: Path) -> None:
    source = "Bonjour {{ nom | upper }} ({{ n }} annotation{{ 's' if n > 1 }})"
    first = jinja2.Environment().from_string(source).render(nom="meudon", n=2)
    files = sorted(cache.glob("*.marshal"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    second = jinja2.Environment().from_string(source).render(nom="sceaux", n=1)
    assert (first, second) == ("Bonjour MEUDON (2 annotations)", "Bonjour SCEAUX (1 annotation)")
    assert files[0].stat().st_mtime_ns == stamp  # read back, not written again


def test_different_syntax_or_escaping_never_share_code(cache: Path) -> None:
    source = "<%= x %> {{ x }}"
    plain = jinja2.Environment().from_string(source).render(x="<b>")
    erb = jinja2.Environment(variable_start_string="<%=", variable_end_string="%>")
    other = erb.from_string(source).render(x="<b>")
    escaped = jinja2.Environment(autoescape=True).from_string(source).render(x="<b>")
    assert plain == "<%= x %> <b>"
    assert other == "<b> {{ x }}"
    assert escaped == "<%= x %> &lt;b&gt;"
    assert len(list(cache.glob("*.marshal"))) == 3


def test_a_damaged_cache_file_is_compiled_again(cache: Path) -> None:
    env = jinja2.Environment()
    assert env.from_string("{{ 1 + 1 }}").render() == "2"
    (path,) = cache.glob("*.marshal")
    path.write_bytes(b"not marshal data")
    assert jinja2.Environment().from_string("{{ 1 + 1 }}").render() == "2"
    assert path.read_bytes() != b"not marshal data"


def test_folium_pages_are_the_same_with_a_warm_cache(tmp_path: Path) -> None:
    code = (
        "from qmi_geo.maps import build_web_map\n"  # installs the cache, imports folium
        "import folium\n"
        "m = folium.Map(location=[48.8, 2.2], zoom_start=12, tiles=None)\n"
        "folium.Marker([48.8, 2.2], popup='<i>ici</i>').add_to(m)\n"
        "html = m.get_root().render()\n"
        "import re, sys\n"
        "sys.stdout.write(re.sub(r'[0-9a-f]{32}', 'ID', html))\n"
    )
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    pages = [
        subprocess.run(
            [sys.executable, "-c", code],
            env={**env, "QMI_TEMPLATE_CACHE": flag},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for flag in ("0", "1", "1")  # no cache, cold cache, warm cache
    ]
    assert "ici" in pages[0] and pages[0] == pages[1] == pages[2]
    assert len(list((tmp_path / "qmi_geo" / "jinja2").glob("*.marshal"))) > 50
