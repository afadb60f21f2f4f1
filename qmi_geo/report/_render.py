"""Templates to HTML (Jinja2, compiled once) and HTML to PDF (WeasyPrint)."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["TEMPLATES", "html_to_pdf", "preload_pdf", "render"]

TEMPLATES = Path(__file__).with_name("templates")


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from qmi_geo._templates import install

    install()
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=1)
def _css() -> str:
    return (TEMPLATES / "livrable.css").read_text(encoding="utf-8")


def render(template: str, context: dict[str, Any]) -> str:
    """Render one of the report templates; every interpolated value is HTML-escaped."""
    from markupsafe import Markup

    env = _environment()
    return str(env.get_template(template).render(css=Markup(_css()), **context))


def html_to_pdf(html: str, *, base_url: Path | None = None) -> bytes:
    """Typeset the HTML as an A4 PDF (embedded fonts, tagged headings, bookmarks)."""
    weasyprint = _weasyprint()
    doc = weasyprint.HTML(string=html, base_url=str(base_url) if base_url else None)
    pdf = doc.write_pdf(pdf_tags=True)
    assert pdf is not None
    return bytes(pdf)


def preload_pdf() -> None:
    """Import WeasyPrint now (while something else runs), or say now why it cannot be."""
    _weasyprint()


def _weasyprint() -> Any:
    import warnings

    try:
        with warnings.catch_warnings():
            # without Debian's libharfbuzz-subset0 WeasyPrint subsets fonts with fontTools
            # and says so with a DeprecationWarning; the PDF is the same
            warnings.filterwarnings("ignore", "HarfBuzz-Subset", DeprecationWarning)
            import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango missing on the system
        from qmi_geo.errors import QmiGeoError

        raise QmiGeoError(
            "PDF impossible : WeasyPrint ou ses bibliothèques système manquent "
            f"({exc}). Installez l'extra « report » (pip install 'qmi_geo[report]') et, sous "
            "Debian, les paquets libpango-1.0-0, libpangoft2-1.0-0 et libharfbuzz-subset0 "
            "(make install le fait en root)."
        ) from None
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return weasyprint
