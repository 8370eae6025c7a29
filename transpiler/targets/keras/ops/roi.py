"""RoiAlign with a fixed sampling_ratio as gathers: every bin's sample points are computed from
the rois as ONNX's reference does (half_pixel offset, minimum roi size 1 for output_half_pixel,
points past the border weighted zero, clamping at the last row and column), and each sample is
a bilinear mix of four `ops.take` from the flattened channels-last input."""

from __future__ import annotations

import numpy as np

from ..context import FLOATS, Ctx, lit
from ..layout import channels_last
from . import TABLE


def _text(v: object) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _axis(ctx: Ctx, start: str, length: str, bins: int, grid: int, size: int, dtype: str) -> tuple[str, str, str, str, str]:
    """Sample coordinates along one axis, (rois, bins, grid): low and high index, their
    weights, and whether the point is inside [-1, size]."""
    ph = np.arange(bins, dtype=dtype).reshape(1, bins, 1)
    frac = (np.arange(grid, dtype=dtype) + 0.5).reshape(1, 1, grid)
    bin_size = ctx.assign("bin", f"ops.reshape(ops.divide({length}, {lit(float(bins))}), (-1, 1, 1))")
    start = f"ops.reshape({start}, (-1, 1, 1))"
    pos = ctx.assign(
        "p", f"ops.add(ops.add({start}, ops.multiply({ctx.constant(ph, 'bins')}, {bin_size})), "
        f"ops.divide(ops.multiply({ctx.constant(frac, 'grid')}, {bin_size}), {lit(float(grid))}))",
    )
    inside = ctx.assign("inside", f"ops.logical_and(ops.greater_equal({pos}, -1.0), ops.less_equal({pos}, {lit(float(size))}))")
    pos = ctx.assign("p", f"ops.maximum({pos}, 0.0)")
    last = ctx.assign("last", f"ops.greater_equal(ops.floor({pos}), {lit(float(size - 1))})")
    pos = ctx.assign("p", f"ops.where({last}, {lit(float(size - 1))}, {pos})")
    low = ctx.assign("lo", f"ops.cast(ops.floor({pos}), \"int32\")")
    high = ctx.assign("hi", f"ops.where({last}, {low}, ops.add({low}, 1))")
    frac_hi = ctx.assign("l", f"ops.subtract({pos}, ops.cast({low}, {lit(dtype)}))")
    frac_lo = ctx.assign("h", f"ops.subtract(1.0, {frac_hi})")
    return low, high, frac_lo, frac_hi, inside


@TABLE.op("RoiAlign")
def roi_align(ctx: Ctx) -> str:
    mode = _text(ctx.attr("mode", "avg")).lower()
    if mode not in ("avg", "max"):
        raise ctx.refuse(f"mode {mode!r}")
    half = _text(ctx.attr("coordinate_transformation_mode", "half_pixel")).lower() == "half_pixel"
    ratio = int(ctx.attr("sampling_ratio", 0))
    if ratio <= 0:
        raise ctx.refuse("sampling_ratio=0 (the sample count would depend on the rois' values)")
    oh, ow = int(ctx.attr("output_height", 1)), int(ctx.attr("output_width", 1))
    scale = float(ctx.attr("spatial_scale", 1.0))
    if ctx.elem(0) not in FLOATS or ctx.elem(1) not in FLOATS:
        raise ctx.refuse("RoiAlign of integers")
    xs = ctx.static_shape(0)
    if len(xs) != 4:
        raise ctx.refuse(f"RoiAlign of a rank-{len(xs)} input")
    batch, chans, height, width = (int(v) for v in xs)
    rdtype = ctx.dtype(ctx.elem(1))
    dtype = ctx.dtype(ctx.elem(0))
    cl = channels_last(4)
    x = ctx.x(0, cl)
    ctx.set_perm(0, cl)
    flat = ctx.assign("x_flat", f"ops.reshape({x}, {lit((batch * height * width, chans))})")
    rois = ctx.x(1)
    off = 0.5 if half else 0.0
    corner = [ctx.assign("r", f"ops.subtract(ops.multiply({rois}[:, {k}], {lit(scale)}), {lit(off)})") for k in range(4)]
    w_len = ctx.assign("roi_w", f"ops.subtract({corner[2]}, {corner[0]})")
    h_len = ctx.assign("roi_h", f"ops.subtract({corner[3]}, {corner[1]})")
    if not half:
        w_len = ctx.assign("roi_w", f"ops.maximum({w_len}, 1.0)")
        h_len = ctx.assign("roi_h", f"ops.maximum({h_len}, 1.0)")
    ylo, yhi, hy, ly, yin = _axis(ctx, corner[1], h_len, oh, ratio, height, rdtype)
    xlo, xhi, hx, lx, xin = _axis(ctx, corner[0], w_len, ow, ratio, width, rdtype)

    def rows(v: str) -> str:  # (rois, oh, g) -> (rois, oh, g, 1, 1)
        return f"ops.expand_dims(ops.expand_dims({v}, -1), -1)"

    def cols(v: str) -> str:  # (rois, ow, g) -> (rois, 1, 1, ow, g)
        return f"ops.expand_dims(ops.expand_dims({v}, 1), 1)"

    base = ctx.assign("base", f"ops.reshape(ops.multiply(ops.cast({ctx.x(2)}, \"int32\"), {height * width}), (-1, 1, 1, 1, 1))")
    inside = ctx.assign("inside", f"ops.logical_and({rows(yin)}, {cols(xin)})")
    taps = []
    for yi, wy in ((ylo, hy), (yhi, ly)):
        for xi, wx in ((xlo, hx), (xhi, lx)):
            pos = f"ops.add(ops.add({base}, {rows(f'ops.multiply({yi}, {width})')}), {cols(xi)})"
            w = f"ops.where({inside}, ops.multiply({rows(wy)}, {cols(wx)}), 0.0)"
            w = ctx.assign("w", f"ops.expand_dims(ops.cast({w}, {lit(dtype)}), -1)")
            taps.append(ctx.assign("tap", f"ops.multiply({w}, ops.take({flat}, {pos}, axis=0))"))
    # taps: (rois, oh, g, ow, g, C); bins reduce over the two grid axes
    if mode == "avg":
        total = f"ops.add(ops.add({taps[0]}, {taps[1]}), ops.add({taps[2]}, {taps[3]}))"
        y = f"ops.divide(ops.sum({total}, axis=(2, 4)), {lit(float(ratio * ratio))})"
    else:
        best = f"ops.maximum(ops.maximum({taps[0]}, {taps[1]}), ops.maximum({taps[2]}, {taps[3]}))"
        y = f"ops.max({best}, axis=(2, 4))"
    return y
