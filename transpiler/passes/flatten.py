"""Re-fusion of reshapes that flatten all but the first axis into ONNX `Flatten(axis=1)`.

- `x.view(x.size(0), -1)` as exporters write it: Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])).
- A Reshape to a constant shape that is exactly (d0, d1 * d2 * ...) of a statically shaped input.

Either way the result no longer hard-codes the batch size. The Shape/Gather chain is left for
dead-code elimination.
"""

from __future__ import annotations

import math

import numpy as np

from .. import ir


def fuse_flatten(graph: ir.Graph) -> int:
    count = 0
    for g in [s for node in graph.nodes for s in node.subgraphs()]:
        count += fuse_flatten(g)
    for node in graph.nodes:
        if node.op_type != "Reshape" or node.domain:
            continue
        data, shape, out = node.input(0), node.input(1), node.output(0)
        if data is None or shape is None or out is None or data.rank is None or data.rank < 2:
            continue
        # allowzero only changes what a 0 in the shape means; the static form has none
        if _is_static_flatten(data, shape) or (not node.attr("allowzero", 0) and _is_batch_then_rest(data, shape)):
            node.op_type, node.inputs, node.attrs = "Flatten", [data], {"axis": 1}
            count += 1
    return count


def _is_static_flatten(data: ir.Value, shape: ir.Value) -> bool:
    dims = data.static_shape
    if dims is None or len(dims) < 3 or shape.const is None or shape.const.ndim != 1:
        return False
    target = [int(d) for d in shape.const.tolist()]
    if len(target) != 2 or 0 in target:
        return False
    want = (dims[0], math.prod(dims[1:]))
    if target[1] == -1:
        return target[0] == dims[0]
    return tuple(target) == want


def _is_batch_then_rest(data: ir.Value, shape: ir.Value) -> bool:
    """shape = Concat(Unsqueeze(Gather(Shape(data), 0), [0]), [-1]) (or with a 1-D Gather index)."""
    cat = shape.producer
    if cat is None or cat.op_type != "Concat" or cat.domain or len(cat.inputs) != 2 or cat.attr("axis", 0) not in (0, -1):
        return False
    first, rest = cat.inputs
    if rest is None or rest.const is None or rest.const.tolist() != [-1] or first is None:
        return False
    p = first.producer
    if p is not None and p.op_type == "Unsqueeze" and not p.domain:
        axes = p.input(1)
        if axes is None or axes.const is None or np.asarray(axes.const).reshape(-1).tolist() != [0]:
            return False
        first = p.input(0)
        p = first.producer if first is not None else None
        scalar_index = True
    else:
        scalar_index = False
    if p is None or p.op_type != "Gather" or p.domain or p.attr("axis", 0) != 0:
        return False
    idx = p.input(1)
    if idx is None or idx.const is None or idx.const.ndim != (0 if scalar_index else 1) or idx.const.reshape(-1).tolist() != [0]:
        return False
    s = p.input(0)
    sh = s.producer if s is not None else None
    return (
        sh is not None and sh.op_type == "Shape" and not sh.domain and sh.input(0) is data
        and int(sh.attr("start", 0) or 0) == 0
    )


__all__ = ["fuse_flatten"]
