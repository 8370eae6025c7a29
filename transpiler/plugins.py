"""Plugins: user code that registers lowerings for ops the built-in tables lack (a custom domain,
a vendor op) through the same OpTable API the built-in lowerings use:

    from transpiler.plugins import table

    @table("pytorch").op("ScaledTanh", domain="com.example")
    def scaled_tanh(ctx):
        return f"{ctx.attr('alpha', 1.0)!r} * torch.tanh({ctx.x(0)})"

A plugin is a Python file (`--plugin my_ops.py`, `convert(..., plugins=[...])`) or an installed
package that names a module (or a callable) in the entry-point group `transpiler.plugins`:

    [project.entry-points."transpiler.plugins"]
    my_ops = "my_package.transpiler_ops"

Plugins load before the model is read: the frontend keeps an op it does not know whole only when
the target's table has it (otherwise it expands or refuses it), so the table must be complete first.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path

from . import targets
from .errors import TranspileError
from .targets.base import OpTable

GROUP = "transpiler.plugins"
_loaded_files: dict[Path, object] = {}
_entry_points_loaded = False


def table(target: str) -> OpTable:
    """The op table of `target`, to register lowerings on."""
    if target not in targets.names():
        raise TranspileError(f"plugin: unknown target {target!r} (choose from {', '.join(targets.names())})")
    return targets.get(target).table


def load_plugins(paths: Sequence[str | os.PathLike[str]] = (), entry_point_group: bool = True) -> list[str]:
    """Load plugin files (each at most once per process) and the installed entry points;
    returns what was loaded, for --verbose."""
    loaded = []
    if entry_point_group:
        loaded += _load_entry_points()
    for p in paths:
        loaded.append(load_plugin_file(p))
    return loaded


def load_plugin_file(path: str | os.PathLike[str]) -> str:
    p = Path(path).resolve()
    if p in _loaded_files:
        return str(p)
    if not p.is_file():
        raise TranspileError(f"--plugin {path}: no such file")
    if p.suffix != ".py":
        raise TranspileError(f"--plugin {path}: a plugin is a Python file (.py)")
    # a unique module name per file, so two plugins named my_ops.py in different folders coexist
    name = f"transpiler_plugin_{p.stem}_{hashlib.sha256(str(p).encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(name, p)
    if spec is None or spec.loader is None:
        raise TranspileError(f"--plugin {path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except TranspileError:
        del sys.modules[name]
        raise
    except Exception as e:
        del sys.modules[name]
        raise TranspileError(f"--plugin {path}: failed to load: {type(e).__name__}: {e}") from None
    _loaded_files[p] = module
    return str(p)


def _load_entry_points() -> list[str]:
    global _entry_points_loaded
    if _entry_points_loaded:
        return []
    _entry_points_loaded = True
    loaded = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            obj = ep.load()
            if callable(obj):
                obj()
        except Exception as e:
            raise TranspileError(f"plugin {ep.name!r} ({ep.value}, entry point {GROUP}): {type(e).__name__}: {e}") from None
        loaded.append(f"{ep.name} ({ep.value})")
    return loaded


@contextmanager
def isolated() -> Iterator[None]:
    """Undo every registration made inside the block (for tests, or a host that loads plugins
    for one conversion only): the op tables of already-imported targets and the plugin files
    loaded are restored on exit."""
    imported = [n for n in targets.names() if f"transpiler.targets.{n}" in sys.modules]
    saved = {n: dict(targets.get(n).table._ops) for n in imported}
    files = dict(_loaded_files)
    try:
        yield
    finally:
        for n, ops in saved.items():
            table = targets.get(n).table
            table._ops.clear()
            table._ops.update(ops)
        _loaded_files.clear()
        _loaded_files.update(files)
