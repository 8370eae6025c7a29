"""GridSample as gathers: the grid's normalized coordinates are mapped to pixel positions as
ONNX's reference does (align_corners, border / reflection handling, nearest rounding half to
even), and every interpolation tap is one `ops.take` from the flattened channels-last input,
weighted by its linear or cubic (Keys, a = -0.75) coefficient."""

from __future__ import annotations

import itertools

import numpy as np

from ..context import FLOATS, Ctx, lit
from ..layout import channels_last
from . import TABLE

MODES = {"linear": "linear", "bilinear": "linear", "nearest": "nearest", "cubic": "cubic", "bicubic": "cubic"}
CUBIC_A = -0.75


def _text(v: object) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _reflect(ctx: Ctx, v: str, lo: float, hi: float) -> str:
    """ONNX's reflection of coordinates outside [lo, hi] back inside (repeatedly)."""
    rng = hi - lo
    below = ctx.assign("below", f"ops.less({v}, {lit(lo)})")
    dx = ctx.assign("dx", f"ops.where({below}, ops.subtract({lit(lo)}, {v}), ops.subtract({v}, {lit(hi)}))")
    n = ctx.assign("n", f"ops.floor(ops.divide({dx}, {lit(rng)}))")
    r = ctx.assign("r", f"ops.subtract({dx}, ops.multiply({n}, {lit(rng)}))")
    even = ctx.assign("even", f"ops.equal(ops.subtract({n}, ops.multiply(ops.floor(ops.divide({n}, 2.0)), 2.0)), 0.0)")
    up, down = f"ops.add({lit(lo)}, {r})", f"ops.subtract({lit(hi)}, {r})"
    inside = f"ops.logical_and(ops.greater_equal({v}, {lit(lo)}), ops.less_equal({v}, {lit(hi)}))"
    moved = f"ops.where({below}, ops.where({even}, {up}, {down}), ops.where({even}, {down}, {up}))"
    return ctx.assign("v", f"ops.where({inside}, {v}, {moved})")


def _cubic_coeffs(t: str) -> list[str]:
    a = CUBIC_A

    def far(x: str) -> str:  # taps at distance 1 < |x| < 2
        return f"(({a} * ({x}) - {5 * a}) * ({x}) + {8 * a}) * ({x}) - {4 * a}"

    def near(x: str) -> str:  # taps at distance |x| <= 1
        return f"(({a + 2} * ({x}) - {a + 3}) * ({x}) * ({x}) + 1)"

    return [far(f"{t} + 1"), near(t), near(f"1 - {t}"), far(f"2 - {t}")]


@TABLE.op("GridSample")
def grid_sample(ctx: Ctx) -> str:
    mode = MODES.get(_text(ctx.attr("mode", "linear")))
    if mode is None:
        raise ctx.refuse(f"mode {_text(ctx.attr('mode'))!r}")
    padding = _text(ctx.attr("padding_mode", "zeros"))
    if padding not in ("zeros", "border", "reflection"):
        raise ctx.refuse(f"padding_mode {padding!r}")
    align = bool(ctx.attr("align_corners", 0))
    if ctx.elem(0) not in FLOATS or ctx.elem(1) not in FLOATS:
        raise ctx.refuse("GridSample of integers")
    xshape = ctx.static_shape(0)
    gshape = ctx.static_shape(1)
    nd = len(xshape) - 2
    if nd not in (1, 2, 3) or gshape[-1] != nd or len(gshape) != nd + 2 or gshape[0] != xshape[0]:
        raise ctx.refuse(f"GridSample of a {xshape} input on a {gshape} grid")
    batch, chans, sizes = xshape[0], xshape[1], list(xshape[2:])
    if padding == "reflection" and align and any(s == 1 for s in sizes):
        raise ctx.refuse("reflection with align_corners over a size-1 axis (ONNX divides by zero)")
    taps = {"nearest": 1, "linear": 2, "cubic": 4}[mode]
    if taps ** nd > 64:
        raise ctx.refuse(f"{mode} sampling in {nd}-D ({taps ** nd} gathers)")
    dtype = ctx.dtype(ctx.elem(0))
    cl = channels_last(nd + 2)
    x = ctx.x(0, cl)
    ctx.set_perm(0, cl)
    total = int(np.prod(sizes))
    flat = ctx.assign("x_flat", f"ops.reshape({x}, {lit((batch * total, chans))})")
    grid = ctx.x(1)
    base = ctx.assign("base", f"ops.reshape(ops.arange(0, {batch * total}, {total}, dtype=\"int32\"), {lit((batch,) + (1,) * nd)})")
    # per spatial axis: a list of (index, weight or None, in-range mask or None), one per tap
    per_axis: list[list[tuple[str, str | None, str | None]]] = []
    for i in range(nd):
        size = sizes[i]
        g = f"{grid}[..., {nd - 1 - i}]"  # the grid holds (x, y, z): the last axis first
        if align:
            v = ctx.assign("v", f"ops.multiply(ops.divide(ops.add({g}, 1.0), 2.0), {lit(float(size - 1))})")
            lo, hi = 0.0, float(size - 1)
        else:
            v = ctx.assign("v", f"ops.divide(ops.subtract(ops.multiply(ops.add({g}, 1.0), {lit(float(size))}), 1.0), 2.0)")
            lo, hi = -0.5, size - 0.5
        if mode == "nearest":
            v = ctx.assign("v", f"ops.round({v})")  # half to even, as ONNX (numpy.rint)
        if padding == "border":
            out = f"ops.logical_or(ops.less({v}, {lit(lo)}), ops.greater({v}, {lit(hi)}))"
            v = ctx.assign("v", f"ops.where({out}, ops.clip({v}, 0.0, {lit(float(size - 1))}), {v})")
        elif padding == "reflection":
            v = _reflect(ctx, v, lo, hi)
        if mode == "nearest":
            first = ctx.assign("i", f"ops.cast({v}, \"int32\")")  # truncation, as ONNX's astype
            weights: list[str | None] = [None]
        else:
            f0 = ctx.assign("v0", f"ops.floor({v})")
            t = ctx.assign("t", f"ops.subtract({v}, {f0})")
            first = ctx.assign("i", f"ops.cast({f0}, \"int32\")")
            if mode == "linear":
                weights = [f"ops.subtract(1.0, {t})", t]
            else:
                weights = _cubic_coeffs(t)
                first = ctx.assign("i", f"ops.subtract({first}, 1)")
        axis_taps = []
        for k, w in enumerate(weights):
            idx = first if k == 0 else f"ops.add({first}, {k})"
            mask = None
            if padding == "zeros":
                mask = ctx.assign("ok", f"ops.logical_and(ops.greater_equal({idx}, 0), ops.less({idx}, {size}))")
                idx = f"ops.clip({idx}, 0, {size - 1})"
            elif padding == "border":
                idx = f"ops.clip({idx}, 0, {size - 1})"
            elif mode != "nearest":
                r = _reflect(ctx, f"ops.cast({idx}, {lit(ctx.dtype(ctx.elem(1)))})", lo, hi)
                idx = f"ops.clip(ops.cast({r}, \"int32\"), 0, {size - 1})"
            idx = ctx.assign("i", idx)
            if w is not None:
                w = ctx.assign("w", f"ops.cast({w}, {lit(dtype)})")
            axis_taps.append((idx, w, mask))
        per_axis.append(axis_taps)
    strides = [int(np.prod(sizes[i + 1:])) for i in range(nd)]
    terms = []
    for combo in itertools.product(*per_axis):
        pos = base  # (a concrete tensor: only keras.ops may combine it with symbolic ones)
        for (idx, _, _), s in zip(combo, strides):
            pos = f"ops.add({pos}, {idx if s == 1 else f'ops.multiply({idx}, {s})'})"
        val = f"ops.take({flat}, {pos}, axis=0)"
        masks = [m for _, _, m in combo if m is not None]
        if masks:
            ok = masks[0]
            for m in masks[1:]:
                ok = f"ops.logical_and({ok}, {m})"
            val = f"ops.where(ops.expand_dims({ok}, -1), {val}, 0.0)"
        ws = [w for _, w, _ in combo if w is not None]
        if ws:
            weight = ws[0]
            for w in ws[1:]:
                weight = f"ops.multiply({weight}, {w})"
            val = f"ops.multiply(ops.expand_dims({weight}, -1), {val})"
        terms.append(ctx.assign("tap", val))
    y = terms[0]
    for t in terms[1:]:
        y = ctx.assign("y", f"ops.add({y}, {t})")
    return y


def _base_axis(size: int, align: bool) -> np.ndarray:
    """One axis of AffineGrid's normalized positions, computed as ONNX's reference does."""
    if align:
        a = np.array([-1.0]) if size == 1 else np.arange(-1, 1 + 0.0001, 2.0 / (size - 1))
    else:
        step = 2.0 / size
        a = np.arange(-1 + step / 2, 1, step)
    return a


@TABLE.op("AffineGrid")
def affine_grid(ctx: Ctx) -> str:
    """theta (N, nd, nd + 1) applied to the homogeneous base grid, a stored (positions, nd + 1)
    constant built from the output's static shape (the `size` input must agree with it)."""
    out = ctx.out_static(0)
    nd = len(out) - 2
    if nd not in (2, 3) or out[-1] != nd:
        raise ctx.refuse(f"AffineGrid with output shape {out}")
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("AffineGrid of integers")
    sizes = [int(s) for s in out[1:-1]]
    size = ctx.const(1)
    if size is not None and [int(v) for v in size.reshape(-1)[2:]] != sizes:
        raise ctx.refuse("the size input disagrees with the output's shape")
    align = bool(ctx.attr("align_corners", 0))
    axes = [_base_axis(s, align) for s in sizes]
    if any(len(a) != s for a, s in zip(axes, sizes)):
        raise ctx.refuse("ONNX's reference grid has another length for this size")
    mesh = np.meshgrid(*axes, indexing="ij")  # (D,) H, W
    # homogeneous coordinates in the grid's order: x (last axis) first, then y (, z), then 1
    base = np.stack([m.reshape(-1) for m in reversed(mesh)] + [np.ones(int(np.prod(sizes)))], axis=1)
    base = base.astype(ctx.dtype(ctx.elem(0)))
    y = f"ops.matmul({ctx.constant(base, 'base_grid')}, ops.transpose({ctx.x(0)}, (0, 2, 1)))"
    return f"ops.reshape({y}, {lit(tuple(int(v) for v in out))})"
