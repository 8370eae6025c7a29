"""ReduceMean / ReduceSum / ReduceMax / ReduceMin / ReduceProd / ReduceL1 / ReduceL2 / ReduceSumSquare /
ReduceLogSumExp -> Reduction over ncnn axes (5=1: axes without the batch axis)."""

from __future__ import annotations

from .... import ir
from ....errors import UnsupportedOp
from ..builder import Builder
from ..shapes import axis_map
from . import TABLE

OPS = {
    "ReduceSum": 0, "ReduceSumSquare": 2, "ReduceMean": 3, "ReduceMax": 4, "ReduceMin": 5, "ReduceProd": 6,
    "ReduceL1": 7, "ReduceL2": 8, "ReduceLogSum": 9, "ReduceLogSumExp": 10,
}


@TABLE.op(*OPS)
def reduce(b: Builder, node: ir.Node) -> None:
    x = node.input(0)
    shape = b.shape(x)
    r = len(shape)
    axes_v = node.input(1)
    if axes_v is not None and axes_v.const is None:
        raise UnsupportedOp("axes that are not a constant")
    if axes_v is None or axes_v.const.size == 0:
        if int(node.attr("noop_with_empty_axes", 0)):
            b.alias(node.outputs[0], x, shape)
            return
        axes = list(range(r))
    else:
        axes = sorted({int(a) % r for a in axes_v.const.reshape(-1)})
    keep = int(node.attr("keepdims", 1))
    out_shape = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keep else tuple(
        d for i, d in enumerate(shape) if i not in axes
    )
    amap = axis_map(shape)  # ncnn axis of each ONNX axis (None: dropped, always of size 1)
    real = [a for a in axes if shape[a] != 1]  # reducing a size-1 axis changes nothing but the shape
    if not real:
        if node.op_type in ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd"):
            b.alias(node.outputs[0], x, out_shape)
            return
        real = [a for a in axes if amap[a] is not None][:1]
        if not real:
            raise UnsupportedOp("a reduction over the batch axis only")
    n_axes = [amap[a] for a in real if amap[a] is not None]
    kept = tuple(1 if i in real else d for i, d in enumerate(shape) if amap[i] is not None)
    params = {0: OPS[node.op_type], 1: 0, 3: n_axes, 4: 1, 5: 1}
    blob = b.layer1("Reduction", [b.blob(x)], kept, params)
    b.bind(node.outputs[0], blob, out_shape)
