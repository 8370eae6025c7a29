"""Shape tensors known at conversion time, symbolically: `Shape(x)` of a tensor whose dims are
ints or symbolic names, followed by Gather / Slice / Unsqueeze / Squeeze / Concat / Cast. A
Reshape to such a computed shape then needs no run-time shape arithmetic (the common
`x.view(x.size(0), -1)` export), and its symbolic batch stays symbolic (-1 in the code)."""

from __future__ import annotations

import numpy as np

from ... import ir

Dims = list[ir.Dim]


def _const_list(v: ir.Value | None, known: dict[int, Dims]) -> Dims | None:
    if v is None:
        return None
    if v.const is not None and v.const.dtype.kind in "iu":
        return [int(d) for d in v.const.reshape(-1)]
    return known.get(id(v))


def shape_values(graph: ir.Graph) -> dict[int, Dims]:
    """id(value) -> its elements (ints or symbolic dim names) for 1-D int shape tensors."""
    known: dict[int, Dims] = {}
    for node in graph.nodes:
        if node.domain != "" or not node.outputs or node.outputs[0] is None:
            continue
        out = node.outputs[0]
        op = node.op_type
        res: Dims | None = None
        if op == "Shape":
            x = node.input(0)
            if x is not None and x.shape is not None and all(d is not None for d in x.shape):
                start, end = node.attr("start", 0), node.attr("end", None)
                res = list(x.shape)[slice(start, end)]
        elif op in ("Cast", "Identity"):
            res = _const_list(node.input(0), known)
        elif op in ("Unsqueeze", "Squeeze"):
            src = _const_list(node.input(0), known)
            if src is not None and (node.input(0).rank in (0, 1) if node.input(0) is not None else False):
                res = src
        elif op == "Gather":
            src = known.get(id(node.input(0))) if node.input(0) is not None else None
            idx = node.input(1)
            if src is not None and idx is not None and idx.const is not None and idx.const.ndim <= 1:
                res = [src[int(i)] for i in idx.const.reshape(-1)]
        elif op == "Slice":
            src = known.get(id(node.input(0))) if node.input(0) is not None else None
            starts, ends = _const_list(node.input(1), {}), _const_list(node.input(2), {})
            steps = _const_list(node.input(4), {}) if node.input(4) is not None else [1]
            if src is not None and starts and ends and steps and all(isinstance(d, int) for d in starts + ends + steps):
                res = list(src)[slice(starts[0], ends[0], steps[0])]  # type: ignore[misc]
        elif op == "Concat":
            parts = [_const_list(v, known) for v in node.inputs]
            if all(p is not None for p in parts):
                res = [d for p in parts for d in p]  # type: ignore[union-attr]
        if res is not None:
            known[id(out)] = res
    return known


def resolve_reshape(in_shape: tuple[ir.Dim, ...], target: Dims, allowzero: bool) -> tuple[int, ...] | None:
    """A Keras reshape target (ints, at most one -1) for ONNX Reshape(x, target), or None."""
    dims: list[ir.Dim] = []
    for i, d in enumerate(target):
        if d == 0 and not allowzero:
            d = in_shape[i] if i < len(in_shape) else None
        dims.append(d)
    if any(d is None for d in dims):
        return None
    unknown = [i for i, d in enumerate(dims) if not isinstance(d, int) or d == -1]
    if len(unknown) == 0:
        return tuple(int(d) for d in dims)  # type: ignore[arg-type]
    if len(unknown) == 1:
        return tuple(-1 if i in unknown else int(d) for i, d in enumerate(dims))  # type: ignore[arg-type]
    # a symbolic dim of the input reused as is, plus one -1: the -1 is the product of the rest
    syms = [d for d in dims if isinstance(d, str)]
    if len(unknown) == 2 and len(syms) == 1 and -1 in dims and list(in_shape).count(syms[0]) == 1:
        rest = [d for d in in_shape if d != syms[0]]
        if all(isinstance(d, int) for d in rest):
            total = int(np.prod(rest))
            known = int(np.prod([d for d in dims if isinstance(d, int) and d != -1]))
            if known and total % known == 0:
                return tuple(-1 if d == syms[0] else (total // known if d == -1 else int(d)) for d in dims)  # type: ignore[misc]
    return None
