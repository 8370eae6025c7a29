"""MaxPool / AveragePool / GlobalAveragePool / GlobalMaxPool -> Pooling (2-d) or Pooling1D.

ncnn's "valid" pad mode (5=1) floors the output size; ONNX's ceil_mode is matched by padding the
end of each axis by just enough that the floored size equals ONNX's ceiled one (ONNX drops a
last window that would start inside the end padding, and so does this)."""

from __future__ import annotations

from .... import ir
from ....errors import UnsupportedOp
from ..builder import Builder
from . import TABLE
from .conv import resolve_pads

MAX, AVG = 0, 1


def pooled_size(size: int, k: int, s: int, begin: int, end: int, ceil: bool) -> int:
    span = size + begin + end - k
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + begin:
        out -= 1  # the last window would start in the end padding
    return out


@TABLE.op("MaxPool", "AveragePool")
def pool(b: Builder, node: ir.Node) -> None:
    x = node.input(0)
    shape = b.shape(x)
    if len(shape) not in (3, 4) or shape[0] != 1:
        raise UnsupportedOp(f"input shape {list(shape)}: ncnn pools 1-d and 2-d maps of batch 1")
    if len(node.outputs) > 1 and node.outputs[1] is not None and b.users.get(id(node.outputs[1])):
        raise UnsupportedOp("the Indices output has no ncnn form")
    n = len(shape) - 2
    kernel = list(node.attr("kernel_shape"))
    strides = list(node.attr("strides", [1] * n))
    dilations = list(node.attr("dilations", [1] * n))
    if any(d != 1 for d in dilations):
        raise UnsupportedOp("dilated pooling has no ncnn form")
    if node.op_type == "MaxPool" and node.attr("storage_order", 0) != 0:
        raise UnsupportedOp("storage_order=1")
    pads = resolve_pads(node, shape[2:], kernel, strides, dilations)
    ceil = bool(node.attr("ceil_mode", 0))
    include_pad = int(node.attr("count_include_pad", 0)) if node.op_type == "AveragePool" else 0
    out_sp, ends = [], []
    for i in range(n):
        o = pooled_size(shape[2 + i], kernel[i], strides[i], pads[i], pads[i + n], ceil)
        if o <= 0:
            raise UnsupportedOp(f"empty output along axis {i + 2}")
        extra = max(0, (o - 1) * strides[i] + kernel[i] - (shape[2 + i] + pads[i] + pads[i + n]))
        if extra and include_pad:
            raise UnsupportedOp("ceil_mode with count_include_pad=1: ONNX divides clipped windows by a size ncnn does not")
        ends.append(pads[i + n] + extra)
        out_sp.append(o)
    kind = MAX if node.op_type == "MaxPool" else AVG
    if n == 1:
        params = {0: kind, 1: kernel[0], 2: strides[0], 3: pads[0], 14: ends[0], 5: 1}
        layer = "Pooling1D"
    else:
        params = {
            0: kind, 1: kernel[1], 11: kernel[0], 2: strides[1], 12: strides[0],
            3: pads[1], 14: ends[1], 13: pads[0], 15: ends[0], 5: 1,
        }
        layer = "Pooling"
    if include_pad:
        params[6] = 1
    out_shape = (1, shape[1], *out_sp)
    blob = b.layer1(layer, [b.view(x, shape[1:])], out_shape[1:], params)
    b.bind(node.outputs[0], blob, out_shape)


@TABLE.op("GlobalAveragePool", "GlobalMaxPool")
def global_pool(b: Builder, node: ir.Node) -> None:
    x = node.input(0)
    shape = b.shape(x)
    if len(shape) not in (3, 4) or shape[0] != 1:
        raise UnsupportedOp(f"input shape {list(shape)}: ncnn pools 1-d and 2-d maps of batch 1")
    kind = MAX if node.op_type == "GlobalMaxPool" else AVG
    layer = "Pooling1D" if len(shape) == 3 else "Pooling"
    # global pooling gives a 1-d blob of the channels; the reshape to (C, 1, 1) is a free view
    blob = b.layer1(layer, [b.view(x, shape[1:])], (shape[1],), {0: kind, 4: 1})
    out_shape = (1, shape[1]) + (1,) * (len(shape) - 2)
    b.bind(node.outputs[0], blob, out_shape)
