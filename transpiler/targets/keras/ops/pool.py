"""Pooling as Keras layers on channels-last tensors. Max pooling pads with -inf, average pooling
divides by the count ONNX uses (a stored divisor map when pads or ceil_mode make it vary).
Dilated windows and LpPool, which Keras has no layer for, reduce over one strided slice per
window element."""

from __future__ import annotations

import itertools

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
def max_pool(ctx: Ctx) -> str | list[str]:
    indices = ctx.n_out > 1 and ctx.has_out(1)
    if any(int(d) != 1 for d in ctx.attr("dilations", [])) or indices or ctx.elem(0) not in FLOATS:
        return windowed_pool(ctx, "max")
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
    if any(int(d) != 1 for d in ctx.attr("dilations", [])):
        return windowed_pool(ctx, "avg")
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


MAX_WINDOW = 512  # window elements written out one strided slice each


def _window_geometry(ctx: Ctx) -> tuple[int, list[int], list[int], list[int], list[tuple[int, int]], list[int], list[int]]:
    """nd, kernel, strides, dilations, declared pads, input sizes and output sizes (static)."""
    rank = ctx.need_rank(0)
    nd = rank - 2
    if nd not in (1, 2, 3):
        raise ctx.refuse(f"{nd}-D pooling")
    if ctx.elem(0) not in FLOATS and ctx.node.op_type != "MaxPool":
        raise ctx.refuse("pooling of integers")
    kernel = [int(k) for k in ctx.attr("kernel_shape")]
    strides = [int(s) for s in ctx.attr("strides", [1] * nd)]
    dilations = [int(d) for d in ctx.attr("dilations", [1] * nd)]
    if int(np.prod(kernel)) > MAX_WINDOW:
        raise ctx.refuse(f"a {kernel} window (more than {MAX_WINDOW} elements, each one slice)")
    pads = spatial_pads(ctx, kernel, strides, dilations)
    sizes = list(ctx.static_shape(0)[2:])
    ceil = bool(ctx.attr("ceil_mode", 0))
    outs = []
    for i in range(nd):
        span = sizes[i] + pads[i][0] + pads[i][1] - (kernel[i] - 1) * dilations[i] - 1
        o = (-(-span // strides[i]) if ceil else span // strides[i]) + 1
        if ceil and (o - 1) * strides[i] >= sizes[i] + pads[i][0]:
            o -= 1  # the last window must start inside the input or its begin pad
        outs.append(o)
    if tuple(outs) != ctx.out_static(0)[2:] or min(outs) < 1:
        raise ctx.refuse(f"pooling output size {outs} disagrees with the graph's {ctx.out_static(0)[2:]}")
    return nd, kernel, strides, dilations, pads, sizes, outs


def _windows(ctx: Ctx, x: str, geo: tuple, fill: str) -> list[str]:
    """One strided slice per window element, of the channels-last input padded with `fill`:
    slice j holds element j of every window (exact for any dilation, pads and ceil_mode)."""
    nd, kernel, strides, dilations, pads, sizes, outs = geo
    widths = [(0, 0)]
    for i in range(nd):
        last = (outs[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] - pads[i][0]
        widths.append((pads[i][0], max(last - sizes[i] + 1, 0)))
    widths.append((0, 0))
    if any(w != (0, 0) for w in widths):
        x = ctx.assign("x_pad", f"ops.pad({x}, {lit(widths)}, constant_values={fill})")
    slices = []
    for offs in itertools.product(*(range(k) for k in kernel)):
        index = [":"]
        for i in range(nd):
            start = offs[i] * dilations[i]
            stop = start + (outs[i] - 1) * strides[i] + 1
            index.append(f"{start}:{stop}" + (f":{strides[i]}" if strides[i] != 1 and outs[i] > 1 else ""))
        index.append(":")
        slices.append(f"{x}[{', '.join(index)}]")
    return slices


def _stacked(ctx: Ctx, slices: list[str]) -> str:
    if len(slices) == 1:
        return slices[0]
    return ctx.assign("windows", "ops.stack([\n    " + ",\n    ".join(slices) + ",\n], axis=0)")


def _counts(geo: tuple, lo_pad: bool) -> np.ndarray:
    """Per output position, the window elements inside the input (or inside the declared pads)."""
    nd, kernel, strides, dilations, pads, sizes, outs = geo
    counts = None
    for i in range(nd):
        lo, hi = (-pads[i][0], sizes[i] + pads[i][1]) if lo_pad else (0, sizes[i])
        pos = (np.arange(outs[i]) * strides[i] - pads[i][0])[:, None] + np.arange(kernel[i]) * dilations[i]
        c = ((pos >= lo) & (pos < hi)).sum(axis=1)
        counts = c if counts is None else np.multiply.outer(counts, c)
    assert counts is not None
    return counts


def windowed_pool(ctx: Ctx, kind: str) -> str | list[str]:
    """Max / average / Lp pooling as a reduction over strided slices (dilations, LpPool)."""
    geo = _window_geometry(ctx)
    nd = geo[0]
    cl = channels_last(nd + 2)
    x = ctx.x(0, cl)
    ctx.set_perm(0, cl)
    if kind == "max":
        fill = lit(float("-inf"))
        if ctx.elem(0) not in FLOATS:
            info = np.iinfo(ctx.dtype(ctx.elem(0)))
            fill = lit(int(info.min))
        windows = _stacked(ctx, _windows(ctx, x, geo, fill))
        if not (ctx.n_out > 1 and ctx.has_out(1)):
            return f"ops.max({windows}, axis=0)"
        return [f"ops.max({windows}, axis=0)", _argmax_indices(ctx, windows, geo)]
    if kind == "lp":
        p = int(ctx.attr("p", 2))
        if p < 1:
            raise ctx.refuse(f"LpPool with p={p}")
        x = ctx.assign("x_pow", f"ops.abs({x})" if p == 1 else f"ops.square({x})" if p == 2 else f"ops.power(ops.abs({x}), {p})")
        total = f"ops.sum({_stacked(ctx, _windows(ctx, x, geo, '0'))}, axis=0)"
        return total if p == 1 else f"ops.sqrt({total})" if p == 2 else f"ops.power({total}, {lit(1.0 / p)})"
    total = ctx.assign("window_sum", f"ops.sum({_stacked(ctx, _windows(ctx, x, geo, '0'))}, axis=0)")
    counts = _counts(geo, bool(ctx.attr("count_include_pad", 0)))
    dtype = ctx.dtype(ctx.elem(0))
    if np.all(counts == counts.flat[0]):
        return f"ops.divide({total}, {lit(float(counts.flat[0]))})"
    return f"ops.divide({total}, {ctx.constant(counts.astype(dtype)[..., None], 'pool_count')})"


def _argmax_indices(ctx: Ctx, windows: str, geo: tuple) -> str:
    """MaxPool's Indices: the first maximum's flat position in the input (N, C, *spatial),
    row-major, or with storage_order=1 column-major over (H, W); channels-last like the values."""
    nd, kernel, strides, dilations, pads, sizes, outs = geo
    order = int(ctx.attr("storage_order", 0))
    if order not in (0, 1) or (order == 1 and nd != 2):
        raise ctx.refuse(f"storage_order={order} for {nd}-D pooling")
    batch, chans = ctx.static_shape(0)[:2]
    place = [int(np.prod(sizes[i + 1:])) for i in range(nd)]
    if order == 1:
        place = [1, sizes[0]]
    # window element k (row-major over the kernel) sits at offs[k] from its window's start
    offs = np.array([sum(o * d * p for o, d, p in zip(combo, dilations, place))
                     for combo in itertools.product(*(range(k) for k in kernel))], dtype=np.int64)
    start = np.zeros(outs, dtype=np.int64)
    for i in range(nd):
        pos = np.arange(outs[i]) * strides[i] - pads[i][0]
        start = start + (pos * place[i]).reshape([-1 if j == i else 1 for j in range(nd)])
    total = int(np.prod(sizes))
    plane = (np.arange(batch * chans, dtype=np.int64) * total).reshape(batch, chans)
    plane = plane.reshape(batch, *([1] * nd), chans)
    k = ctx.assign("k", f"ops.argmax({windows}, axis=0)")  # first maximum, as ONNX
    ctx.set_perm(1, channels_last(nd + 2))
    idx = f"ops.take({ctx.constant(offs, 'pool_offsets')}, {k})"
    idx = f"ops.add({idx}, {ctx.constant(start[..., None], 'pool_starts')})"
    return f"ops.add({idx}, {ctx.constant(plane, 'pool_planes')})"


@TABLE.op("LpPool")
def lp_pool(ctx: Ctx) -> str:
    return windowed_pool(ctx, "lp")


@TABLE.op("MaxUnpool")
def max_unpool(ctx: Ctx) -> str:
    """Values written at their flat Indices into zeros of the inferred size (duplicate indices
    come from overlapping windows and carry the same value), then zero-padded at the end up to
    the output's shape, as ONNX's reference does."""
    xshape = ctx.static_shape(0)
    nd = len(xshape) - 2
    if nd not in (1, 2, 3):
        raise ctx.refuse(f"{nd}-D MaxUnpool")
    kernel = [int(k) for k in ctx.attr("kernel_shape")]
    strides = [int(s) for s in ctx.attr("strides", [1] * nd)]
    pads = [int(p) for p in ctx.attr("pads", [0] * (2 * nd))]
    inferred = [*xshape[:2], *((xshape[2 + i] - 1) * strides[i] - pads[i] - pads[nd + i] + kernel[i] for i in range(nd))]
    out = ctx.out_static(0)
    if len(out) != len(inferred) or any(o < n for o, n in zip(out, inferred)) or tuple(out[:2]) != tuple(xshape[:2]):
        raise ctx.refuse(f"output shape {out} smaller than the unpooled {inferred}")
    dtype = ctx.dtype(ctx.elem(0))
    zeros = f"ops.zeros({lit((int(np.prod(inferred)),))}, dtype={lit(dtype)})"
    itype = "int32" if int(np.prod(inferred)) < 2**31 else "int64"
    idx = f"ops.reshape(ops.cast({ctx.x(1)}, {lit(itype)}), (-1, 1))"
    y = f"ops.scatter_update({zeros}, {idx}, ops.reshape({ctx.x(0)}, (-1,)))"
    y = ctx.assign("unpooled", f"ops.reshape({y}, {lit(tuple(inferred))})")
    if tuple(out) != tuple(inferred):
        y = f"ops.pad({y}, {lit([(0, o - n) for o, n in zip(out, inferred)])})"
    return y
