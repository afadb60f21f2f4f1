"""Jinja2 templates compiled once per machine, not once per process.

folium defines one jinja2 template per class, compiled when folium is imported: 93 templates,
a third of a second of CPU at every ``qmi diagnose``, for the same text each time. Python
caches its own modules' bytecode in ``__pycache__``; :func:`install` does the same for
jinja2: the code object of each template is kept in ``<user cache>/qmi_geo/jinja2/``, under
a key made of everything the compiled code depends on (the template text, its name and file
name, the jinja2 and Python versions, the environment's syntax, autoescape, finalize,
extensions and the calling conventions of its filters and tests). Any change gives a new
key, hence a fresh compilation; a cache that cannot be read or written is ignored.

``QMI_TEMPLATE_CACHE=0`` turns it off.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from pathlib import Path
from types import CodeType
from typing import Any

__all__ = ["cache_dir", "install"]

_INSTALLED = False


def cache_dir() -> Path:
    """``<user cache>/qmi_geo/jinja2`` (XDG on Linux, ~/Library/Caches, %LOCALAPPDATA%)."""
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "qmi_geo" / "jinja2"


def _key(env: Any, source: str, name: str | None, filename: str | None, defer: bool) -> str:
    import jinja2
    from jinja2.utils import _PassArg

    def conv(func: Any) -> str:
        return str(_PassArg.from_obj(func))

    autoescape = env.autoescape(name) if callable(env.autoescape) else env.autoescape
    parts = (
        jinja2.__version__,
        sys.version,
        sys.implementation.cache_tag,
        f"{type(env).__module__}.{type(env).__qualname__}",
        f"{env.code_generator_class.__module__}.{env.code_generator_class.__qualname__}",
        name,
        filename,
        defer,
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.optimized,
        env.is_async,
        bool(autoescape),
        None if env.finalize is None else conv(env.finalize),
        sorted(env.extensions),
        sorted((n, conv(f)) for n, f in env.filters.items()),
        sorted((n, conv(f)) for n, f in env.tests.items()),
    )
    digest = hashlib.sha256(repr(parts).encode("utf-8"))
    digest.update(b"\0")
    digest.update(source.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def install() -> None:
    """Make every jinja2 environment of this process reuse compiled templates (idempotent)."""
    global _INSTALLED
    if _INSTALLED or os.environ.get("QMI_TEMPLATE_CACHE", "1") == "0":
        return
    import jinja2

    compile_source: Any = jinja2.Environment.compile

    def compile(
        self: jinja2.Environment,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if raw or not isinstance(source, str):  # parsed nodes, or Python source wanted
            return compile_source(self, source, name, filename, raw, defer_init)
        folder = cache_dir()
        path = folder / f"{_key(self, source, name, filename, defer_init)}.marshal"
        try:
            code = marshal.loads(path.read_bytes())
            if isinstance(code, CodeType):
                return code
        except (OSError, EOFError, ValueError, TypeError):
            pass
        code = compile_source(self, source, name, filename, raw, defer_init)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            try:
                tmp.write_bytes(marshal.dumps(code))
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        except OSError:  # a read-only or full cache only costs the compilation
            pass
        return code

    from jinja2.utils import internalcode

    jinja2.Environment.compile = internalcode(compile)  # type: ignore[method-assign]
    _INSTALLED = True
