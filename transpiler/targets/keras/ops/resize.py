"""Resize, exact on every backend: per resized axis, the source indices and weights ONNX's
formula gives each output position are computed here and stored; the model gathers and blends
them (`ops.take`). Integer-factor nearest upsampling of images is `layers.UpSampling2D`."""

from __future__ import annotations

import numpy as np

from ..context import FLOATS, Ctx, call
from ..layout import channels_last
from . import TABLE
from ._util import axis_of


def _source_coords(mode: str, out: int, size: int, scale: float, roi: tuple[float, float] | None) -> np.ndarray:
    o = np.arange(out, dtype=np.float64)
    if mode == "half_pixel":
        return (o + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (o + 0.5) / scale - 0.5 if out > 1 else np.zeros(out)
    if mode == "align_corners":
        return o * (size - 1) / (out - 1) if out > 1 else np.zeros(out)
    if mode == "asymmetric":
        return o / scale
    if mode == "half_pixel_symmetric":
        adjustment = out / (scale * size)
        center = size / 2
        offset = center * (1 - adjustment)
        return offset + (o + 0.5) / scale - 0.5
    raise ValueError(mode)


def _taps(ctx: Ctx, x: np.ndarray, size: int) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """(indices per tap, weights per tap or None for nearest)."""
    mode = ctx.attr("mode", "nearest")
    if mode == "nearest":
        nm = ctx.attr("nearest_mode", "round_prefer_floor")
        frac = x - np.floor(x)
        if nm == "round_prefer_floor":
            idx = np.where(frac == 0.5, np.floor(x), np.round(x))
        elif nm == "round_prefer_ceil":
            idx = np.where(frac == 0.5, np.ceil(x), np.round(x))
        elif nm == "floor":
            idx = np.floor(x)
        elif nm == "ceil":
            idx = np.ceil(x)
        else:
            raise ctx.refuse(f"nearest_mode {nm!r}")
        return [np.clip(idx, 0, size - 1).astype(np.int64)], None
    if mode == "linear":
        xc = np.clip(x, 0, size - 1)
        i0 = np.floor(xc)
        w1 = xc - i0
        i1 = np.minimum(i0 + 1, size - 1)
        return [i0.astype(np.int64), i1.astype(np.int64)], [1.0 - w1, w1]
    if mode == "cubic":
        a = float(ctx.attr("cubic_coeff_a", -0.75))
        base = np.floor(x)
        r = x - base
        def k(t: np.ndarray) -> np.ndarray:
            t = np.abs(t)
            return np.where(t <= 1, ((a + 2) * t - (a + 3)) * t * t + 1,
                            np.where(t < 2, ((a * t - 5 * a) * t + 8 * a) * t - 4 * a, 0.0))
        idxs = [base + d for d in (-1, 0, 1, 2)]
        ws = [k(r - d) for d in (-1, 0, 1, 2)]
        if ctx.attr("exclude_outside", 0):
            ws = [np.where((i >= 0) & (i < size), w, 0.0) for i, w in zip(idxs, ws)]
            total = sum(ws)
            ws = [w / total for w in ws]
        return [np.clip(i, 0, size - 1).astype(np.int64) for i in idxs], ws
    raise ctx.refuse(f"mode {mode!r}")


@TABLE.op("Resize")
def resize(ctx: Ctx) -> str:
    if ctx.attr("antialias", 0):
        raise ctx.refuse("antialias=1")
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("Resize of integers")
    ctm = ctx.attr("coordinate_transformation_mode", "half_pixel")
    if ctm == "tf_crop_and_resize":
        raise ctx.refuse("tf_crop_and_resize")
    if ctx.attr("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise ctx.refuse("keep_aspect_ratio_policy other than stretch")
    in_shape = ctx.static_shape(0)
    out_shape = ctx.out_static(0)
    rank = len(in_shape)
    axes = [axis_of(ctx, a, rank) for a in ctx.attr("axes", list(range(rank)))]
    scales = None
    if ctx.has(2) and ctx.const(2) is not None and ctx.const(2).size:
        scales = [float(s) for s in np.asarray(ctx.const(2), dtype=np.float64).reshape(-1)]
    elif ctx.has(2) and ctx.const(2) is None:
        raise ctx.refuse("the scales must be a constant")
    if not (ctx.has(3) and ctx.const(3) is not None and ctx.const(3).size) and scales is None:
        raise ctx.refuse("scales or sizes must be given as constants")
    # which axes change, with their scale as ONNX computes it
    plan = []
    for k, a in enumerate(axes):
        scale = scales[k] if scales is not None else out_shape[a] / in_shape[a]
        if out_shape[a] == in_shape[a] and scale == 1.0:
            continue
        plan.append((a, scale))
    perm = ctx.perm(0)
    if rank >= 3 and all(a >= 2 for a, _ in plan):
        perm = channels_last(rank) if perm is None and ctx.attr("mode", "nearest") == "nearest" and rank == 4 else perm
    x = ctx.x(0, perm)
    ctx.set_perm(0, perm)
    if not plan:
        return x
    tables = []
    for a, scale in plan:
        coords = _source_coords(ctm, out_shape[a], in_shape[a], scale, None)
        tables.append((a, *_taps(ctx, coords, in_shape[a])))
    # integer-factor nearest upsampling of the two spatial axes of a channels-last image
    if (
        rank == 4 and perm == channels_last(4) and all(w is None for _, _, w in tables)
        and sorted(a for a, _, _ in tables) == [2, 3]
        and all(out_shape[a] % in_shape[a] == 0 and np.array_equal(i[0], np.arange(out_shape[a]) // (out_shape[a] // in_shape[a]))
                for a, i, _ in tables)
    ):
        size = (out_shape[2] // in_shape[2], out_shape[3] // in_shape[3])
        return f"{ctx.layer(call('layers.UpSampling2D', size=size))}({x})"
    dtype = ctx.dtype(ctx.elem(0))
    expr = x
    for a, idxs, ws in tables:
        ka = perm.index(a) if perm is not None else a
        terms = []
        for t, idx in enumerate(idxs):
            taken = f"ops.take({expr}, {ctx.constant(idx, 'resize_index')}, axis={ka})"
            if ws is None:
                terms.append(taken)
                continue
            shape = [1] * rank
            shape[ka] = len(idx)
            w = ws[t].astype(dtype).reshape(shape)
            terms.append(f"ops.multiply({taken}, {ctx.constant(w, 'resize_weight')})")
        expr = terms[0]
        for term in terms[1:]:
            expr = f"ops.add({expr}, {term})"
        if len(tables) > 1 and (a, idxs, ws) != tables[-1]:
            expr = ctx.assign("x_resized", expr)
    return expr

