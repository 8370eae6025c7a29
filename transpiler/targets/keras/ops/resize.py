"""Resize, exact on every backend: along each resized axis, every output position reads a few
input positions (taps) with weights given by ONNX's formulas (`onnx.reference`'s Resize); the model
gathers them (`ops.take`) and blends them.

When the scales / sizes / roi are constants the taps are computed here (numpy) and stored. When
they arrive at run time, the output's static shape still fixes how many positions each axis has,
but where they sample depends on the values: the model computes the taps from them with the same
formulas (written once, below, for both numpy and generated `keras.ops` code), in float64 as the
reference does. Integer-factor nearest upsampling of images is `layers.UpSampling2D`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..context import FLOATS, Ctx, call, lit
from ..layout import channels_last
from . import TABLE
from ._util import axis_of

MODES = ("nearest", "linear", "cubic")
TRANSFORMS = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "half_pixel_symmetric", "tf_crop_and_resize")
NEAREST = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


# -- one set of formulas, two ways to evaluate them ------------------------------------------------


class _Code:
    """A `keras.ops` expression built with Python operators (for formulas shared with numpy)."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __str__(self) -> str:
        return self.code

    def __format__(self, spec: str) -> str:
        return self.code

    def _op(self, fn: str, other: Any, swap: bool = False) -> _Code:
        a, b = (_arg(other), self.code) if swap else (self.code, _arg(other))
        return _Code(f"ops.{fn}({a}, {b})")

    def __add__(self, o: Any) -> _Code:
        return self._op("add", o)

    def __radd__(self, o: Any) -> _Code:
        return self if isinstance(o, int) and o == 0 else self._op("add", o, True)

    def __sub__(self, o: Any) -> _Code:
        return self._op("subtract", o)

    def __rsub__(self, o: Any) -> _Code:
        return self._op("subtract", o, True)

    def __mul__(self, o: Any) -> _Code:
        return self._op("multiply", o)

    def __rmul__(self, o: Any) -> _Code:
        return self._op("multiply", o, True)

    def __truediv__(self, o: Any) -> _Code:
        return self._op("divide", o)

    def __rtruediv__(self, o: Any) -> _Code:
        return self._op("divide", o, True)

    def __lt__(self, o: Any) -> _Code:  # type: ignore[override]
        return self._op("less", o)

    def __le__(self, o: Any) -> _Code:  # type: ignore[override]
        return self._op("less_equal", o)

    def __gt__(self, o: Any) -> _Code:  # type: ignore[override]
        return self._op("greater", o)

    def __ge__(self, o: Any) -> _Code:  # type: ignore[override]
        return self._op("greater_equal", o)

    def __eq__(self, o: Any) -> _Code:  # type: ignore[override]
        return self._op("equal", o)

    def __and__(self, o: Any) -> _Code:
        return self._op("logical_and", o)

    def __or__(self, o: Any) -> _Code:
        return self._op("logical_or", o)

    __hash__ = None  # type: ignore[assignment]


def _arg(v: Any) -> str:
    return v.code if isinstance(v, _Code) else lit(v)


def _f64(v: Any) -> str:
    """A Python number as a float64 tensor (torch's minimum/maximum would make it float32)."""
    return v.code if isinstance(v, _Code) else f"ops.cast({lit(float(v))}, 'float64')"


class _Numpy:
    """Evaluates the formulas now, in float64 numpy (as the reference does)."""

    def arange(self, n: int) -> np.ndarray:
        return np.arange(n, dtype=np.float64)

    def where(self, c: Any, a: Any, b: Any) -> Any:
        if isinstance(c, (bool, np.bool_)):
            return a if c else b
        return np.where(c, a, b)

    def floor(self, x: Any) -> Any:
        return np.floor(x)

    def clip(self, x: Any, lo: int, hi: int) -> Any:
        return np.clip(x, lo, hi)

    def f64(self, x: Any) -> Any:
        return np.float64(x) if np.ndim(x) == 0 else np.asarray(x, np.float64)

    def abs(self, x: Any) -> Any:
        return np.abs(x)

    def maximum(self, a: Any, b: Any) -> Any:
        return np.maximum(a, b)

    def minimum(self, a: Any, b: Any) -> Any:
        return np.minimum(a, b)

    def div(self, a: Any, b: Any, like: Any) -> Any:
        return a / b

    def name(self, x: Any, hint: str) -> Any:
        return x


class _Ops:
    """Writes the formulas as `keras.ops` code computing them at run time (float64)."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

    def arange(self, n: int) -> _Code:
        return _Code(f"ops.arange({n}, dtype='float64')")

    def where(self, c: Any, a: Any, b: Any) -> Any:
        if isinstance(c, (bool, np.bool_)):
            return a if c else b
        return _Code(f"ops.where({_arg(c)}, {_arg(a)}, {_arg(b)})")

    def floor(self, x: Any) -> _Code:
        # ops.floor computes in float32 on some backends: truncate through int64 instead
        x = self.name(x, "src")
        t = self.name(_Code(f"ops.cast(ops.cast({x}, 'int64'), 'float64')"), "whole")
        return _Code(f"ops.where(ops.greater({t}, {x}), ops.subtract({t}, 1), {t})")

    def div(self, a: Any, b: Any, like: Any) -> _Code:
        # XLA divides by a broadcast scalar through its reciprocal, off by an ulp: give the
        # divisor the shape of the positions (`like`, finite) so that it divides exactly
        return _Code(f"ops.divide({_arg(a)}, ops.add(ops.multiply({_arg(like)}, 0.0), {_arg(b)}))")

    def clip(self, x: Any, lo: int, hi: int) -> _Code:
        return _Code(f"ops.clip({_arg(x)}, {lo}, {hi})")

    def f64(self, x: Any) -> Any:
        return _Code(f"ops.cast({x}, 'float64')") if isinstance(x, _Code) else x

    def abs(self, x: Any) -> _Code:
        return _Code(f"ops.abs({_arg(x)})")

    def maximum(self, a: Any, b: Any) -> _Code:
        return _Code(f"ops.maximum({_f64(a)}, {_f64(b)})")

    def minimum(self, a: Any, b: Any) -> Any:
        return _Code(f"ops.minimum({_f64(a)}, {_f64(b)})") if isinstance(a, _Code) else min(a, b)

    def name(self, x: Any, hint: str) -> Any:
        return _Code(self.ctx.assign(hint, str(x))) if isinstance(x, _Code) else x


def _source_coords(xp: Any, ctm: str, out: int, size: int, scale: Any, roi: tuple[Any, Any] | None) -> tuple[Any, Any]:
    """(source coordinate of each output position, mask of positions to extrapolate or None):
    `_compute_x_ori` of the reference, operation for operation."""
    o = xp.name(xp.arange(out), "position")
    width = scale * size  # the output width before flooring, a float
    if ctm == "half_pixel":
        return xp.div(o + 0.5, scale, o) - 0.5, None
    if ctm == "asymmetric":
        return xp.div(o, scale, o), None
    if ctm == "pytorch_half_pixel":
        return xp.where(width == 1, o * 0.0 - 0.5, xp.div(o + 0.5, scale, o) - 0.5), None
    if ctm == "align_corners":
        return xp.where(width == 1, o * 0.0, xp.div(o * (size - 1), width - 1, o)), None
    if ctm == "half_pixel_symmetric":
        adjustment = out / width
        center = size / 2
        offset = center * (1 - adjustment)
        return offset + xp.div(o + 0.5, scale, o) - 0.5, None
    assert ctm == "tf_crop_and_resize" and roi is not None
    start, end = roi
    # roi arithmetic happens in the roi's own type, as in the reference
    x = xp.where(width == 1, o * 0.0 + xp.f64((end - start) * (size - 1) / 2), xp.div(o * xp.f64(end - start) * (size - 1), width - 1, o))
    x = xp.name(x + xp.f64(start * (size - 1)), "src")
    return x, (x < 0) | (x > size - 1)


def _cubic_coeffs(r: Any, a: float) -> list[Any]:
    """The reference's cubic weights of the taps floor(x) - 1 .. floor(x) + 2, r = x - floor(x)."""
    return [
        ((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
        ((a + 2) * r - (a + 3)) * r * r + 1,
        ((a + 2) * (1 - r) - (a + 3)) * (1 - r) * (1 - r) + 1,
        ((a * ((1 - r) + 1) - 5 * a) * ((1 - r) + 1) + 8 * a) * ((1 - r) + 1) - 4 * a,
    ]


def _taps(xp: Any, ctx: Ctx, x: Any, size: int) -> tuple[list[Any], list[Any] | None]:
    """(input index per tap, weight per tap or None for nearest). The reference picks its taps
    around floor(x) (the tap left of an integer x, weighted 0, where these formulas take the one
    right of it: the same sum)."""
    mode = ctx.attr("mode", "nearest")
    x = xp.name(x, "src")
    fl = xp.name(xp.floor(x), "src_floor")
    r = xp.name(x - fl, "src_frac")
    hi = size - 1
    if mode == "nearest":
        nm = ctx.attr("nearest_mode", "round_prefer_floor")
        if nm == "round_prefer_floor":
            idx = xp.where(r <= 0.5, fl, fl + 1)
        elif nm == "round_prefer_ceil":
            idx = xp.where(r < 0.5, fl, fl + 1)
        elif nm == "floor":
            idx = fl
        else:
            idx = xp.where(r == 0, fl, fl + 1)
        return [xp.clip(idx, 0, hi)], None
    if mode == "linear":
        idxs, ws = [fl, fl + 1], [1 - r, r]
    else:
        idxs, ws = [fl - 1, fl, fl + 1, fl + 2], _cubic_coeffs(r, float(ctx.attr("cubic_coeff_a", -0.75)))
    if ctx.attr("exclude_outside", 0):
        ws = [xp.name(xp.where((i >= 0) & (i <= hi), w, 0.0), "weight") for i, w in zip(idxs, ws)]
        total = xp.name(sum(ws), "weight_sum")
        ws = [w / xp.where(total == 0, 1.0, total) for w in ws]
    return [xp.clip(i, 0, hi) for i in idxs], ws


def _kernel_start(mode: str, scale: float) -> int:
    """The first kernel offset of the reference's antialiased kernels (it has 2 - 2 * start taps)."""
    s = min(scale, 1.0)
    return int(np.floor((-1 if mode == "linear" else -2) / s) + 1)


def _antialias_start(ctx: Ctx, scale: Any, size: int, out: int) -> int:
    """The kernel start for `scale`; for a run-time scale, the one every scale giving this output
    size shares (the reference's output size is floor(scale * size)), else refuse."""
    mode = ctx.attr("mode", "nearest")
    if not isinstance(scale, _Code):
        return _kernel_start(mode, scale)
    lo, hi = out / size, float(np.nextafter((out + 1) / size, 0))
    if out == 0 or _kernel_start(mode, lo) != _kernel_start(mode, hi):
        raise ctx.refuse("antialias with a run-time scale whose kernel width the output size does not fix")
    return _kernel_start(mode, lo)


def _antialias_taps(xp: Any, ctx: Ctx, x: Any, size: int, scale: Any, start: int) -> tuple[list[Any], list[Any]]:
    """Antialiased linear / cubic taps: the reference's kernels (wider when downsampling, 2 - 2 *
    start taps) and its rule for which input positions they cover."""
    mode = ctx.attr("mode", "nearest")
    s = xp.name(xp.minimum(scale, 1.0), "kernel_scale")
    x = xp.name(x, "src")
    xi = xp.name(xp.floor(x), "src_floor")
    ratio = xp.name(xp.where(x == xi, 1.0, x - xi), "src_frac")
    n = 2 - 2 * start
    coeffs = []
    for k in range(n):
        if mode == "linear":
            c = xp.clip(1 - xp.abs((start + k - ratio) * s), 0, 1)
        else:
            a = float(ctx.attr("cubic_coeff_a", -0.75))
            t = xp.name(xp.abs(s * (start + k - ratio)), "dist")
            t2 = t * t
            c = xp.where(t <= 1, (a + 2) * (t * t2) - (a + 3) * t2 + 1, xp.where(t < 2, a * (t * t2) - 5 * a * t2 + 8 * a * t - 4 * a, 0.0))
        coeffs.append(xp.name(c, "weight"))
    total = xp.name(sum(coeffs), "weight_sum")
    coeffs = [c / total for c in coeffs]
    pad = int(np.ceil(n / 2))
    shifted = xp.name(x + pad, "src")
    p = xp.name(xp.floor(shifted), "src_floor")
    frac = shifted - p
    if n % 2 == 0:
        first = xp.where(frac == 0, -(n // 2), -(n // 2) + 1)
    else:
        first = xp.where(frac <= 0.5, -((n - 1) // 2), -((n - 1) // 2) + 1)
    first = xp.name(p + first - pad, "first_tap")
    nbrs = [first + k for k in range(n)]
    if ctx.attr("exclude_outside", 0):
        coeffs = [xp.name(xp.where((i >= 0) & (i <= size - 1), c, 0.0), "weight") for i, c in zip(nbrs, coeffs)]
        total = xp.name(sum(coeffs), "weight_sum")
        coeffs = [c / xp.where(total == 0, 1.0, total) for c in coeffs]
    return [xp.clip(i, 0, size - 1) for i in nbrs], coeffs


# -- the lowering ---------------------------------------------------------------------------------


def _isclose(xp: Any, a: Any, b: float) -> Any:
    """math.isclose(a, b) (the reference's test for an axis left alone)."""
    if not isinstance(a, _Code):
        return math.isclose(float(a), b)
    if b == 0:
        return a == 0.0
    return xp.abs(a - b) <= 1e-9 * xp.maximum(xp.abs(a), abs(b))


@TABLE.op("Resize")
def resize(ctx: Ctx) -> str:
    mode = ctx.attr("mode", "nearest")
    ctm = ctx.attr("coordinate_transformation_mode", "half_pixel")
    policy = ctx.attr("keep_aspect_ratio_policy", "stretch")
    antialias = bool(ctx.attr("antialias", 0))
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("Resize of integers")
    if mode not in MODES or ctm not in TRANSFORMS or policy not in ("stretch", "not_larger", "not_smaller"):
        raise ctx.refuse(f"mode {mode!r} / coordinate_transformation_mode {ctm!r} / keep_aspect_ratio_policy {policy!r}")
    if mode == "nearest" and (ctx.attr("nearest_mode", "round_prefer_floor") not in NEAREST or antialias):
        raise ctx.refuse("nearest_mode, or antialias with nearest (the reference has none)")
    if mode != "cubic" and ctx.attr("exclude_outside", 0):
        raise ctx.refuse("exclude_outside with nearest / linear (defined for cubic)")
    in_shape = ctx.static_shape(0)
    out_shape = ctx.out_static(0)
    rank = len(in_shape)
    listed = [axis_of(ctx, a, rank) for a in ctx.attr("axes", list(range(rank)))]
    ops_xp = _Ops(ctx)
    scales = _axis_scales(ctx, ops_xp, listed, in_shape, out_shape, policy)
    rois = _axis_rois(ctx, listed, rank) if ctm == "tf_crop_and_resize" else {}
    # the axes to resample, and (when only the run-time values can tell) whether to leave it alone
    plan: list[tuple[int, Any, Any]] = []
    for a in listed:
        scale = scales[a]
        same: Any = out_shape[a] == in_shape[a]
        if same:
            same = _isclose(ops_xp, scale, 1.0)
            if ctm == "tf_crop_and_resize":
                start, end = rois[a]
                same = _both(same, _both(_isclose(ops_xp, ops_xp.f64(start), 0.0), _isclose(ops_xp, ops_xp.f64(end), 1.0)))
        if same is True:
            continue
        if isinstance(scale, _Code) and in_shape[a] == out_shape[a] == 1 and ctm != "tf_crop_and_resize":
            continue  # every tap reads the one element, whatever the scale
        plan.append((a, scale, same))
    perm = ctx.perm(0)
    static = all(not isinstance(s, _Code) and not isinstance(rois.get(a, (0, 0))[0], _Code) for a, s, _ in plan)
    if static and rank >= 3 and all(a >= 2 for a, _, _ in plan):
        perm = channels_last(rank) if perm is None and mode == "nearest" and rank == 4 else perm
    x = ctx.x(0, perm)
    ctx.set_perm(0, perm)
    if not plan:
        return x
    np_xp = _Numpy()
    tables = []
    for a, scale, same in plan:
        xp = ops_xp if isinstance(scale, _Code) or isinstance(rois.get(a, (0, 0))[0], _Code) else np_xp
        coords, outside = _source_coords(xp, ctm, out_shape[a], in_shape[a], scale, rois.get(a))
        if antialias:
            start = _antialias_start(ctx, scale, in_shape[a], out_shape[a])
            idxs, ws = _antialias_taps(xp, ctx, coords, in_shape[a], scale, start)
        else:
            idxs, ws = _taps(xp, ctx, coords, in_shape[a])
        tables.append((a, idxs, ws, outside, same))
    upsample = _upsampling_2d(ctx, tables, perm, in_shape, out_shape)
    if upsample is not None:
        return f"{ctx.layer(call('layers.UpSampling2D', size=upsample))}({x})"
    return _blend(ctx, x, tables, perm, out_shape)


def _both(a: Any, b: Any) -> Any:
    if a is False or b is False:
        return False
    if a is True:
        return b
    return a if b is True else a & b


def _axis_scales(ctx: Ctx, xp: _Ops, listed: list[int], in_shape: tuple[int, ...], out_shape: tuple[int, ...], policy: str) -> dict[int, Any]:
    """axis -> its scale as the reference computes it: a float known now, or run-time code."""
    n = len(listed)
    if ctx.has(2) and _length(ctx, 2) != 0:
        if _length(ctx, 2) != n:
            raise ctx.refuse("as many scales as resized axes are needed")
        c = ctx.const(2)
        if c is not None:
            return {a: float(s) for a, s in zip(listed, np.asarray(c).reshape(-1))}
        scales = xp.name(_Code(f"ops.cast({ctx.x(2)}, 'float64')"), "scales")
        return {a: xp.name(_Code(f"ops.take({scales}, {k})"), "scale") for k, a in enumerate(listed)}
    if not ctx.has(3) or _length(ctx, 3) != n:
        raise ctx.refuse("scales or sizes (one per resized axis) are needed")
    if policy == "stretch":
        # the output's static shape is the sizes' value
        return {a: out_shape[a] / in_shape[a] for a in listed}
    pick = min if policy == "not_larger" else max
    c = ctx.const(3)
    if c is not None:
        s = pick(int(v) / in_shape[a] for a, v in zip(listed, np.asarray(c).reshape(-1)))
        return {a: s for a in listed}
    dims = _Code(ctx.constant(np.array([in_shape[a] for a in listed], np.float64), "sizes_of_input"))
    fn = "ops.min" if policy == "not_larger" else "ops.max"
    sizes = xp.name(_Code(f"ops.cast({ctx.x(3)}, 'float64')"), "sizes")
    shared = xp.name(_Code(f"{fn}({xp.div(sizes, dims, sizes)})"), "scale")
    return {a: shared for a in listed}


def _axis_rois(ctx: Ctx, listed: list[int], rank: int) -> dict[int, tuple[Any, Any]]:
    """axis -> (roi start, roi end), numpy scalars of the roi's type or run-time code."""
    n = len(listed)
    if not ctx.has(1) or _length(ctx, 1) != 2 * n:
        raise ctx.refuse("tf_crop_and_resize needs an roi of two values per resized axis")
    c = ctx.const(1)
    if c is not None:
        flat = np.asarray(c).reshape(-1)
        return {a: (flat[k], flat[k + n]) for k, a in enumerate(listed)}
    roi = ctx.x(1)
    return {a: (_Code(f"ops.take({roi}, {k})"), _Code(f"ops.take({roi}, {k + n})")) for k, a in enumerate(listed)}


def _length(ctx: Ctx, i: int) -> int:
    shape = ctx.static_shape(i)
    if len(shape) != 1:
        raise ctx.refuse(f"input {i} must be 1-D")
    return shape[0]


def _upsampling_2d(ctx: Ctx, tables: list, perm: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> tuple[int, int] | None:
    """The factors when the resize is integer-factor nearest upsampling of the two spatial axes of
    a channels-last image (known now), else None."""
    if len(in_shape) != 4 or perm != channels_last(4) or sorted(t[0] for t in tables) != [2, 3]:
        return None
    for a, idxs, ws, outside, same in tables:
        if ws is not None or outside is not None or same is not False or not isinstance(idxs[0], np.ndarray):
            return None
        f = out_shape[a] // in_shape[a]
        if out_shape[a] % in_shape[a] or not np.array_equal(idxs[0], np.arange(out_shape[a]) // f):
            return None
    return (out_shape[2] // in_shape[2], out_shape[3] // in_shape[3])


def _blend(ctx: Ctx, x: str, tables: list, perm: Any, out_shape: tuple[int, ...]) -> str:
    rank = len(out_shape)
    dtype = ctx.dtype(ctx.elem(0))
    expr = x
    for k, (a, idxs, ws, outside, same) in enumerate(tables):
        ka = perm.index(a) if perm is not None else a
        shape = [1] * rank
        shape[ka] = out_shape[a]
        before = expr
        terms = []
        for t, idx in enumerate(idxs):
            if isinstance(idx, np.ndarray):
                index = ctx.constant(idx.astype(np.int64), "resize_index")
            else:
                index = ctx.assign("resize_index", f"ops.cast({idx}, 'int64')")
            taken = f"ops.take({expr}, {index}, axis={ka})"
            if ws is None:
                terms.append(taken)
                continue
            w = ws[t]
            if isinstance(w, np.ndarray):
                weight = ctx.constant(w.astype(dtype).reshape(shape), "resize_weight")
            else:
                weight = ctx.assign("resize_weight", f"ops.reshape(ops.cast({w}, {lit(dtype)}), {lit(tuple(shape))})")
            terms.append(f"ops.multiply({taken}, {weight})")
        expr = terms[0]
        for term in terms[1:]:
            expr = f"ops.add({expr}, {term})"
        if outside is not None and (isinstance(outside, _Code) or np.any(outside)):
            mask = ctx.constant(outside.reshape(shape), "extrapolate") if isinstance(outside, np.ndarray) else f"ops.reshape({outside}, {lit(tuple(shape))})"
            fill = f"ops.cast({lit(float(ctx.attr('extrapolation_value', 0.0)))}, {lit(dtype)})"
            expr = f"ops.where({mask}, {fill}, {expr})"
        if same is not False:
            # the reference leaves an axis alone when its scale (and roi) are the identity's
            expr = f"ops.where({same}, {before}, {expr})"
        if k < len(tables) - 1:
            expr = ctx.assign("x_resized", expr)
    return expr
