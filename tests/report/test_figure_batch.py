"""The livrable's figures are drawn together, in two processes where it can: same livrable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from qmi_geo import _overlap
from qmi_geo.pipeline import load_layers
from qmi_geo.report import build
from qmi_geo.spec import load_spec

KEYS = ("situation", "qpv", "coupures", "sites")


@pytest.fixture(scope="module")
def meudon() -> Any:
    return load_layers(load_spec("92048"))


def _page(meudon: Any) -> tuple[build._Figures, str]:
    """A page of four real maps of Meudon and a quote that looks like a placeholder."""
    batch = build._Figures()
    imgs = [batch("quarter_map", key, meudon.layers, meudon.perimeter) for key in KEYS]
    quote = "<q>qmi-figure-0123456789abcdef-0 : « ici » &amp; là</q>"
    return batch, quote + "".join(f'<img src="{src}">' for src in imgs)


def _drawn_by(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Note which process draws each figure (the forked child appends to the same file)."""
    draw = build._figure

    def noted(name: str, *args: Any, **kwargs: Any) -> str:
        with log.open("a", encoding="utf-8") as f:
            f.write(f"{args[0]} {os.getpid()}\n")
        return draw(name, *args, **kwargs)

    monkeypatch.setattr(build, "_figure", noted)


def test_every_placeholder_becomes_its_own_figure(
    meudon: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_overlap.ENV, "0")
    batch, html = _page(meudon)
    calls: list[int] = []
    filled = batch.fill(html, before=lambda: calls.append(os.getpid()))
    assert calls == [os.getpid()]
    assert "qmi-figure-0123456789abcdef-0 : « ici »" in filled  # the quote is untouched
    assert filled.count('src="data:image/png;base64,') == len(KEYS)
    assert batch._token(0) not in filled
    uris = [part.split('"')[0] for part in filled.split('<img src="')[1:]]
    assert len(set(uris)) == len(KEYS)  # four different maps, each in its own place
    assert uris[0] == build._figure("quarter_map", KEYS[0], meudon.layers, meudon.perimeter)


@pytest.mark.skipif(not _overlap.available(), reason="needs Linux, fork and two cores")
def test_figures_drawn_in_two_processes_are_the_figures_drawn_in_one(
    meudon: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = tmp_path / "drawn.txt"
    _drawn_by(monkeypatch, log)
    monkeypatch.setenv(_overlap.ENV, "0")
    batch, html = _page(meudon)
    alone = batch.fill(html)
    assert {line.split()[1] for line in log.read_text().splitlines()} == {str(os.getpid())}
    log.unlink()

    monkeypatch.setenv(_overlap.ENV, "1")
    calls: list[int] = []
    together = batch.fill(html, before=lambda: calls.append(os.getpid()))
    drawn = dict(line.split() for line in log.read_text().splitlines())
    assert sorted(drawn) == sorted(KEYS)
    assert len(set(drawn.values())) == 2 and str(os.getpid()) in drawn.values()
    assert calls == [os.getpid()]  # WeasyPrint's import happens here, once
    assert together == alone


@pytest.mark.skipif(not _overlap.available(), reason="needs Linux, fork and two cores")
def test_a_figure_failing_in_the_child_fails_the_livrable(meudon: Any) -> None:
    batch = build._Figures()
    page = batch("quarter_map", "situation", meudon.layers, meudon.perimeter)
    page += batch("carte_inconnue")  # the last figures are drawn by the child
    with pytest.raises(AttributeError, match="carte_inconnue"):
        batch.fill(page)
