"""Jinja2 rendering of the files in `templates/` (shipped inside the wheel as transpiler/templates)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2


@lru_cache(maxsize=1)
def templates_dir() -> Path:
    here = Path(__file__).resolve().parent
    for cand in (here / "templates", here.parent / "templates"):
        if cand.is_dir():
            return cand
    raise RuntimeError("the templates folder is missing from this installation")


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=False,  # Python/C++ sources, not HTML: every model string is escaped by the caller
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render(name: str, **context: Any) -> str:
    return _env().get_template(name).render(**context)


@lru_cache(maxsize=None)
def template_text(name: str) -> str:
    path = templates_dir() / name
    if not path.is_file():
        raise KeyError(f"no template {name}")
    return path.read_text(encoding="utf-8")
