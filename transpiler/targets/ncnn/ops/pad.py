"""Pad -> Padding (0=top 1=bottom 2=left 3=right 4=type 5=value) on the two innermost ncnn axes.

Modes: constant (type 0), edge (type 1, replicate), reflect (type 2, mirror without the edge
element, as ONNX and numpy mean it). Padding of other axes, negative pads (cropping) and
blobs of 4 ncnn dims are refused."""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..builder import Builder
from ..shapes import axis_map, ncnn_shape
from . import TABLE

MODES = {"constant": 0, "edge": 1, "reflect": 2}


@TABLE.op("Pad")
def pad(b: Builder, node: ir.Node) -> None:
    x = node.input(0)
    shape = b.shape(x)
    r = len(shape)
    mode = node.attr("mode", "constant")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode not in MODES:
        raise UnsupportedOp(f"mode {mode!r}")
    consts = [node.input(i) for i in range(1, 4)]
    if any(v is not None and v.const is None for v in consts) or consts[0] is None:
        raise UnsupportedOp("pads / value / axes that are not constants")
    pads = [int(p) for p in consts[0].const.reshape(-1)]
    axes = [int(a) % r for a in consts[2].const.reshape(-1)] if consts[2] is not None else list(range(r))
    if len(pads) != 2 * len(axes):
        raise UnsupportedOp(f"{len(pads)} pads for {len(axes)} axes")
    begin, end = [0] * r, [0] * r
    for k, a in enumerate(axes):
        begin[a], end[a] = pads[k], pads[k + len(axes)]
    if any(p < 0 for p in begin + end):
        raise UnsupportedOp("negative pads (cropping)")
    value = 0.0
    if consts[1] is not None and consts[1].const.size:
        value = float(consts[1].const.reshape(-1)[0])
    if mode == "constant" and not np.isfinite(value):
        raise UnsupportedOp("a non-finite pad value")
    out_shape = tuple(d + p + q for d, p, q in zip(shape, begin, end))
    if out_shape == tuple(shape):
        b.alias(node.outputs[0], x, out_shape)
        return
    nin = ncnn_shape(shape)
    nd = len(nin)
    if nd > 3:
        raise UnsupportedOp(f"a blob of {nd} ncnn dims (Padding pads w and h of at most 3)")
    amap = axis_map(shape)
    w_axis, h_axis = nd - 1, nd - 2
    for i in range(r):
        if (begin[i] or end[i]) and amap[i] not in (w_axis, h_axis if nd >= 2 else None):
            raise UnsupportedOp("padding of an axis other than the two innermost")
    if mode == "reflect" and any((begin[i] or end[i]) and max(begin[i], end[i]) >= shape[i] for i in range(r)):
        raise UnsupportedOp("reflect pads as large as the axis")
    top = bottom = left = right = 0
    for i in range(r):
        if amap[i] == w_axis:
            left, right = begin[i], end[i]
        elif amap[i] == h_axis and nd >= 2:
            top, bottom = begin[i], end[i]
    nout = list(nin)
    nout[w_axis] += left + right
    if nd >= 2:
        nout[h_axis] += top + bottom
    params = {0: top, 1: bottom, 2: left, 3: right, 4: MODES[mode], 5: value}
    blob = b.layer1("Padding", [b.blob(x)], tuple(nout), params)
    b.bind(node.outputs[0], blob, out_shape)
