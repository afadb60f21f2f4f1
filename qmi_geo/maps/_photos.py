"""Walk photos as thumbnails in the web map's popups, embedded within a size budget.

A walk file names its photos (``photo`` column): a file name from a phone app, a path in a
KoboToolbox export (``attachments/<uuid>/<name>.jpg`` next to the XLSX/CSV), or a URL. The
page must stay one offline file, so each photo found on disk is shrunk to a thumbnail (JPEG,
longest side :data:`THUMB_PX` pixels) and embedded as a ``data:`` URI until the budget
(:data:`BUDGET_BYTES` for the whole page) is spent; the others keep their name in the popup,
with the reason. Nothing is fetched from the network.
"""

from __future__ import annotations

import base64
import io
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["BUDGET_BYTES", "THUMB_PX", "find_photo", "photo_table"]

log = logging.getLogger(__name__)

THUMB_PX = 320
BUDGET_BYTES = 2_500_000
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
_URL = re.compile(r"^https?://", re.IGNORECASE)


def _index(folders: Sequence[Path]) -> dict[str, Path]:
    """File name (lower case) -> path, for the images under ``folders`` (recursive)."""
    out: dict[str, Path] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in _IMAGE_SUFFIXES and path.is_file():
                out.setdefault(path.name.lower(), path)
    return out


def find_photo(value: str, folders: Sequence[Path], index: dict[str, Path] | None = None) -> Path | None:
    """Return the image file a walk's ``photo`` value names, searched in ``folders``.

    The value is tried as a path relative to each folder, then by its file name anywhere
    under the folders (KoboToolbox puts attachments in per-submission sub-folders).

    Examples
    --------
    >>> find_photo("https://example.org/p.jpg", []) is None
    True
    """
    if not value or _URL.match(value):
        return None
    rel = Path(value.replace("\\", "/"))
    for folder in folders:
        candidate = folder / rel
        if candidate.is_file():
            return candidate
    idx = index if index is not None else _index(folders)
    return idx.get(rel.name.lower())


def _thumbnail(path: Path) -> tuple[bytes, int, int]:
    from PIL import Image, ImageOps

    with Image.open(path) as opened:
        img: Image.Image = ImageOps.exif_transpose(opened)
        img.thumbnail((THUMB_PX, THUMB_PX))
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=72, optimize=True)
        return buf.getvalue(), img.width, img.height


def photo_table(
    values: Iterable[Any], folders: Sequence[Path | str], *, budget: int = BUDGET_BYTES
) -> dict[str, dict[str, Any]]:
    """Return, for each distinct photo value, what the popup shows.

    Parameters
    ----------
    values : iterable
        The annotations' ``photo`` values (empty ones are skipped).
    folders : sequence of path-like
        Where to look for the files (the walk files' folders).
    budget : int
        Bytes of embedded thumbnails allowed for the whole page.

    Returns
    -------
    dict
        value -> ``{"alt": name, "src": data URI, "w": px, "h": px}`` for an embedded photo,
        ``{"alt": name, "note": reason}`` otherwise (``"href"`` for a URL).

    Examples
    --------
    >>> photo_table(["", "p1.jpg"], [])["p1.jpg"]["note"]
    'photo introuvable à côté du fichier de la marche'
    """
    dirs = [Path(f) for f in folders]
    index: dict[str, Path] | None = None
    spent = 0
    out: dict[str, dict[str, Any]] = {}
    for raw in values:
        value = "" if raw is None else str(raw).strip()
        if not value or value in out or value.lower() in ("nan", "none"):
            continue
        name = Path(value.replace("\\", "/")).name or value
        if _URL.match(value):
            out[value] = {"alt": name, "href": value, "note": "photo en ligne (lien)"}
            continue
        if index is None:
            index = _index(dirs)
        path = find_photo(value, dirs, index)
        if path is None:
            out[value] = {"alt": name, "note": "photo introuvable à côté du fichier de la marche"}
            continue
        if spent >= budget:
            out[value] = {"alt": name, "note": "photo non intégrée : taille maximale de la page"}
            continue
        try:
            data, w, h = _thumbnail(path)
        except (OSError, ValueError) as exc:
            log.warning("Photo illisible %s : %s", path, exc)
            out[value] = {"alt": name, "note": "photo illisible"}
            continue
        if spent + len(data) > budget:
            out[value] = {"alt": name, "note": "photo non intégrée : taille maximale de la page"}
            spent = budget
            continue
        spent += len(data)
        src = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
        out[value] = {"alt": name, "src": src, "w": w, "h": h}
    return out
