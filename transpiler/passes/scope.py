"""Where a node came from in the source model's module tree.

PyTorch exports keep the module path in two places: initializer names carry the parameter path
(`layer1.0.conv1.weight`) and legacy-exporter node names carry the call scope
(`/layer1/layer1.0/conv1/Conv`). `module_path` reads either into a tuple of path parts
(`("layer1", "0", "conv1")`), which the targets use to rebuild the module tree so that the
generated `state_dict()` keys equal the original parameter names.
"""

from __future__ import annotations

import re

from .. import ir

_PARAM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
_TRAILING_INDEX = re.compile(r"_\d+$")


def param_path(v: ir.Value) -> tuple[tuple[str, ...], str] | None:
    """('layer1.0.conv1.weight') -> (('layer1', '0', 'conv1'), 'weight'); None for names that are
    no dotted parameter path (`onnx::Conv_193`, `val_86`, `pos_embed`)."""
    name = v.name
    if "." not in name or not _PARAM.match(name):
        return None
    *path, leaf = name.split(".")
    return tuple(path), leaf


def module_path(node: ir.Node, readers: dict[int, list[ir.Node]] | None = None) -> tuple[str, ...] | None:
    """The module path of the layer a node implements: from its named weights (`.weight` first),
    else from the scope in its node name; None when the model kept neither. With `readers`
    (Graph.users()), a weight read by several nodes names none of them: exporters share equal
    tensors between layers (every zero bias under the first one's name)."""
    weights = [
        v for v in node.inputs[1:]
        if v is not None and v.const is not None and (readers is None or len(readers.get(id(v), ())) <= 1)
    ]
    named = [p for p in (param_path(v) for v in weights) if p]
    named.sort(key=lambda p: p[1] != "weight")
    if named:
        return named[0][0]
    return scope_path(node)


def scope_path(node: ir.Node) -> tuple[str, ...] | None:
    """'/layer1/layer1.0/conv1/Conv' -> ('layer1', '0', 'conv1'): the legacy exporter writes each
    module's full dotted name as one path part, so the deepest dotted part wins."""
    if "/" not in node.name:
        return None
    parts = [p for p in node.name.split("/") if p][:-1]
    kept = [p for i, p in enumerate(parts) if not (i + 1 < len(parts) and parts[i + 1].startswith(p + "."))]
    out: list[str] = []
    for p in kept:
        out.extend(x for x in p.split(".") if x)
    return tuple(out) or None


def common_prefix(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    if not paths:
        return ()
    first = paths[0]
    n = len(first)
    for p in paths[1:]:
        n = min(n, len(p))
        for i in range(n):
            if p[i] != first[i]:
                n = i
                break
    return first[:n]


def strip_index(name: str) -> str:
    """'linear_4' -> 'linear': exporters number their names through the whole graph, so the numbers
    differ between otherwise identical blocks."""
    return _TRAILING_INDEX.sub("", name) or name


__all__ = ["common_prefix", "module_path", "param_path", "scope_path", "strip_index"]
