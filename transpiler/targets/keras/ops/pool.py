"""Pooling as Keras layers on channels-last tensors. Max pooling pads with -inf, average pooling
divides by the count ONNX uses (a stored divisor map when pads or ceil_mode make it vary)."""

from __future__ import annotations

import numpy as np

from ..context import FLOATS, Ctx, call, lit
from ..layout import channels_last
from . import TABLE
from ._window import spatial_pads


def _setup(ctx: Ctx) -> tuple[int, list[int], list[int], list[tuple[int, int]], list[int]]:
    rank = ctx.need_rank(0)
    nd = rank - 2
    if nd not in (1, 2, 3):
        raise ctx.refuse(f"{nd}-D pooling")
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("pooling of integers")
    if ctx.n_out > 1 and ctx.has_out(1):
        raise ctx.refuse("the Indices output of MaxPool")
    kernel = [int(k) for k in ctx.attr("kernel_shape")]
    strides = [int(s) for s in ctx.attr("strides", [1] * nd)]
    dilations = [int(d) for d in ctx.attr("dilations", [1] * nd)]
    if any(d != 1 for d in dilations):
        raise ctx.refuse("dilated pooling (Keras pooling layers have no dilation)")
    pads = spatial_pads(ctx, kernel, strides, dilations)
    shape = ctx.shape(0)
    assert shape is not None
    sizes = list(shape[2:])
    ceil = bool(ctx.attr("ceil_mode", 0))
    outs = []
    for i in range(nd):
        if not isinstance(sizes[i], int):
            if ceil or pads[i] != (0, 0):
                raise ctx.refuse("padded or ceil_mode pooling needs static spatial sizes")
            outs.append(-1)
            continue
        span = sizes[i] + pads[i][0] + pads[i][1] - kernel[i]
        o = (-(-span // strides[i]) if ceil else span // strides[i]) + 1
        if ceil and (o - 1) * strides[i] >= sizes[i] + pads[i][0]:
            o -= 1
        outs.append(o)
    # the end pad valid pooling needs to produce exactly `outs` windows
    ends = []
    for i in range(nd):
        if outs[i] < 0:
            ends.append((pads[i][0], pads[i][1]))
            continue
        need = (outs[i] - 1) * strides[i] + kernel[i] - sizes[i] - pads[i][0]
        floor_out = (sizes[i] + pads[i][0] + pads[i][1] - kernel[i]) // strides[i] + 1
        ends.append((pads[i][0], pads[i][1] if floor_out == outs[i] else max(need, 0)))
    return nd, kernel, strides, ends, outs


def _pool_kw(kernel: list[int], strides: list[int]) -> tuple[list[str], dict]:
    args = [lit(kernel[0] if len(kernel) == 1 else tuple(kernel))]
    kw: dict = {}
    if strides != kernel:
        kw["strides"] = strides[0] if len(strides) == 1 else tuple(strides)
    return args, kw


@TABLE.op("MaxPool")
def max_pool(ctx: Ctx) -> str:
    nd, kernel, strides, pads, _ = _setup(ctx)
    cl = channels_last(nd + 2)
    x = ctx.x(0, cl)
    ctx.set_perm(0, cl)
    if any(p != (0, 0) for p in pads):
        width = [(0, 0), *pads, (0, 0)]
        x = ctx.assign("x_pad", f"ops.pad({x}, {lit(width)}, constant_values=float('-inf'))")
    args, kw = _pool_kw(kernel, strides)
    return f"{ctx.layer(call(f'layers.MaxPooling{nd}D', *args, **kw))}({x})"


@TABLE.op("AveragePool")
def average_pool(ctx: Ctx) -> str:
    nd, kernel, strides, pads, outs = _setup(ctx)
    orig = spatial_pads(ctx, kernel, strides, [1] * nd)
    shape = ctx.shape(0)
    assert shape is not None
    sizes = list(shape[2:])
    include = bool(ctx.attr("count_include_pad", 0))
    cl = channels_last(nd + 2)
    x = ctx.x(0, cl)
    ctx.set_perm(0, cl)
    args, kw = _pool_kw(kernel, strides)
    if all(p == (0, 0) for p in pads):
        return f"{ctx.layer(call(f'layers.AveragePooling{nd}D', *args, **kw))}({x})"
    # divisor per output position: window elements inside the input (or inside the declared
    # pads, with count_include_pad), as ONNX counts them
    divisors = []
    for i in range(nd):
        lo, hi = (-orig[i][0], sizes[i] + orig[i][1]) if include else (0, sizes[i])
        starts = np.arange(outs[i]) * strides[i] - orig[i][0]
        ends = starts + kernel[i]
        divisors.append(np.minimum(ends, hi) - np.maximum(starts, lo))
    div = divisors[0]
    for d in divisors[1:]:
        div = np.multiply.outer(div, d)
    full = int(np.prod(kernel))
    pad = ctx.layer(call(f"layers.ZeroPadding{nd}D", padding=pads[0] if nd == 1 else tuple(pads)), hint=ctx.pad_hint())
    x = ctx.assign("x_pad", f"{pad}({x})")
    y = f"{ctx.layer(call(f'layers.AveragePooling{nd}D', *args, **kw))}({x})"
    if np.all(div == full):
        return y
    dtype = ctx.dtype(ctx.elem(0))
    scale = (full / div.astype(np.float64)).astype(dtype)[..., None]
    return f"ops.multiply({y}, {ctx.constant(scale, 'pool_scale')})"


@TABLE.op("GlobalAveragePool", "GlobalMaxPool")
def global_pool(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    nd = rank - 2
    if nd not in (1, 2, 3):
        raise ctx.refuse(f"{nd}-D global pooling")
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("pooling of integers")
    cl = channels_last(rank)
    x = ctx.x(0, cl)
    ctx.set_perm(0, cl)
    kind = "Average" if ctx.node.op_type == "GlobalAveragePool" else "Max"
    return f"{ctx.layer(call(f'layers.Global{kind}Pooling{nd}D', keepdims=True))}({x})"
