"""The Keras op table. Each module here registers the lowerings of one family of ops."""

from __future__ import annotations

import importlib
import pkgutil

from ...base import OpTable

TABLE = OpTable("keras")

# Every module of this package registers its lowerings on import (sorted: deterministic order).
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")
