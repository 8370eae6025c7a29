"""Turning arbitrary strings from a model into legal, unique identifiers, in one place.

Every identifier in generated code comes from a `Namespace`: only `[A-Za-z0-9_]`, never starting
with a digit, never a keyword, a builtin or a reserved name, and unique within the namespace.
Deduplication is O(1) per name (a counter per base name), so 100k names cost nothing.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

_NON_IDENT = re.compile(r"[^A-Za-z0-9_]+")
_CAMEL_SPLIT = re.compile(r"[^A-Za-z0-9]+")
MAX_LEN = 48

# Builtins a tensor may be named after without harm: the generated code never calls them.
_HARMLESS_BUILTINS = frozenset({"input", "id", "filter", "format", "hash", "iter", "next", "vars", "dir", "help"})
PYTHON_RESERVED = (
    frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | (frozenset(dir(builtins)) - _HARMLESS_BUILTINS)
)


def clean(text: str, fallback: str = "v") -> str:
    """A snake_case identifier-ish rendering of `text` (not yet deduplicated)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _NON_IDENT.sub("_", text).strip("_")
    text = re.sub(r"_+", "_", text)
    if len(text) > MAX_LEN:
        text = text[-MAX_LEN:].strip("_")
    if not text:
        text = fallback
    if text[0].isdigit():
        text = f"{fallback}_{text}"
    return text


def camel(text: str, fallback: str = "Net") -> str:
    """A CamelCase class name from `text` ("tiny_mlp" -> "TinyMlp")."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    parts = [p for p in _CAMEL_SPLIT.split(text) if p]
    name = "".join(p[:1].upper() + p[1:] for p in parts)[:MAX_LEN]
    if not name:
        return fallback
    if name[0].isdigit():
        name = fallback + name
    if keyword.iskeyword(name) or name in PYTHON_RESERVED:
        name = name + fallback
    return name


class Namespace:
    """Hands out unique identifiers; `reserved` names are never given out."""

    def __init__(self, reserved: frozenset[str] | set[str] = frozenset(), parent: Namespace | None = None) -> None:
        self._reserved = set(reserved)
        self._taken: set[str] = set()
        self._counters: dict[str, int] = {}
        self._parent = parent

    def _is_free(self, name: str) -> bool:
        ns: Namespace | None = self
        while ns is not None:
            if name in ns._reserved or name in ns._taken:
                return False
            ns = ns._parent
        return True

    def reserve(self, name: str) -> None:
        self._reserved.add(name)

    def fresh(self, hint: str, fallback: str = "v") -> str:
        base = clean(hint, fallback)
        if keyword.iskeyword(base) or base in PYTHON_RESERVED:
            base = f"{base}_"
        if self._is_free(base):
            self._taken.add(base)
            return base
        n = self._counters.get(base, 0)
        while True:
            n += 1
            cand = f"{base}_{n}"
            if self._is_free(cand):
                self._counters[base] = n
                self._taken.add(cand)
                return cand
