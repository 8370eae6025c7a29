"""Resize by whole factors -> Deconvolution with fixed weights (one filter per channel).

Caffe has no resize layer in BVLC, but upsampling by an integer factor f is a transposed
convolution with stride f:
- nearest (each output reads input floor(i / f)): a kernel of f ones, no overlap;
- linear with a transform x = (i + a) / f + b (half_pixel, pytorch_half_pixel, asymmetric): the
  triangle kernel 1 - |d| of width 2f, after padding the input by one edge row/column on each
  side (a Slice of the border + Concat), which is exactly ONNX's clamping at the borders; the
  output is then cut to size.
Before anything is emitted, the 1-D interpolation matrix this construction computes is compared
with ONNX's (per axis, in float64); any difference refuses the node.
"""

from __future__ import annotations

import math

import numpy as np

from ....errors import UnsupportedOp
from ..net import Ctx
from . import TABLE
from ._util import crop, edge_pad, hw, spatial_2d

# transform -> (a, b) of x = (i + a) / f + b, for the transforms that are affine with slope 1/f
_AFFINE = {"half_pixel": (0.5, -0.5), "pytorch_half_pixel": (0.5, -0.5), "asymmetric": (0.0, 0.0),
           "tf_half_pixel_for_nn": (0.5, 0.0)}


def _s(v: object) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


@TABLE.op("Resize")
def resize(ctx: Ctx) -> str:
    spatial_2d(ctx, "resizing")
    mode = _s(ctx.attr("mode", "nearest"))
    transform = _s(ctx.attr("coordinate_transformation_mode", "half_pixel"))
    nearest_mode = _s(ctx.attr("nearest_mode", "round_prefer_floor"))
    if ctx.attr("antialias", 0) and mode != "nearest":
        raise UnsupportedOp("antialiased resizing has no Caffe layer")
    if mode not in ("nearest", "linear"):
        raise UnsupportedOp(f"mode={mode!r}: only nearest and (bi)linear resizing by whole factors map to Caffe")
    if transform not in _AFFINE:
        raise UnsupportedOp(f"coordinate_transformation_mode={transform!r} is not a whole-factor upsampling")
    shape, out = ctx.shape(0), ctx.out_shape(0)
    if shape[:2] != out[:2]:
        raise UnsupportedOp("resizing the batch or channel axis has no Caffe layer")
    factors = []
    for i in (2, 3):
        if out[i] % shape[i]:
            raise UnsupportedOp(f"axis {i}: {shape[i]} -> {out[i]} is not a whole upsampling factor")
        factors.append(out[i] // shape[i])
    for i, what in ((1, "roi"), (2, "scales"), (3, "sizes")):
        if ctx.input(i) is not None and ctx.const(i) is None:
            raise UnsupportedOp(f"{what} must be a constant (a Caffe net's shapes are fixed)")
    scales = ctx.const(2) if ctx.input(2) is not None else None
    if scales is not None and scales.size == 4 and any(float(scales[2 + k]) != factors[k] for k in range(2)):
        raise UnsupportedOp("the scales differ from the output size ratio")
    a, b = _AFFINE[transform]
    channels = shape[1]
    if mode == "nearest":
        for k in range(2):
            f = factors[k]
            want = _onnx_nearest(shape[2 + k], f, a, b, nearest_mode)
            got = _deconv_matrix(shape[2 + k], f, np.ones(f), pad=0, offset=0)
            if not np.array_equal(want, got):
                raise UnsupportedOp(f"nearest_mode={nearest_mode!r} with {transform} does not repeat each pixel")
        kernel = np.ones((channels, 1, factors[0], factors[1]), np.float32)
        params: dict = {"num_output": channels, "bias_term": False}
        hw(params, "kernel", factors, None)
        hw(params, "stride", factors, 1)
        params["group"] = channels
        return str(ctx.layer("Deconvolution", [ctx.blob(0)], {"convolution_param": params}, [kernel]))
    kernels, offsets = [], []
    for k in range(2):
        f, size = factors[k], shape[2 + k]
        taps, offset = _triangle(f, a, b)
        want = _onnx_linear(size, f, a, b)
        got = _deconv_matrix(size, f, taps, pad=1, offset=offset)
        if not np.allclose(want, got, rtol=0, atol=1e-12):
            raise UnsupportedOp(f"linear resizing with {transform} is not a fixed transposed convolution here")
        kernels.append(taps)
        offsets.append(offset)
    top = ctx.blob(0)
    for axis in (2, 3):  # pad one edge row/column on each side: ONNX clamps at the borders
        top = edge_pad(ctx, top, axis, shape[axis])
    kernel = np.broadcast_to(np.outer(kernels[0], kernels[1]).astype(np.float32),
                             (channels, 1, len(kernels[0]), len(kernels[1])))
    params = {"num_output": channels, "bias_term": False}
    hw(params, "kernel", [len(kernels[0]), len(kernels[1])], None)
    hw(params, "stride", factors, 1)
    params["group"] = channels
    top = str(ctx.layer("Deconvolution", [top], {"convolution_param": params}, [kernel], final=False,
                        role="interpolate"))
    for n, axis in enumerate((2, 3)):
        full = (shape[axis] + 2 - 1) * factors[n] + len(kernels[n])
        if offsets[n] + out[axis] > full:
            raise UnsupportedOp("the transposed convolution is shorter than the resized axis")
        top = crop(ctx, top, axis, offsets[n], out[axis], full, final=n == 1)
    return top


def _source(i: np.ndarray, f: int, a: float, b: float) -> np.ndarray:
    return (i + a) / f + b


def _onnx_nearest(size: int, f: int, a: float, b: float, mode: str) -> np.ndarray:
    x = _source(np.arange(size * f, dtype=np.float64), f, a, b)
    if mode == "floor":
        idx = np.floor(x)
    elif mode == "ceil":
        idx = np.ceil(x)
    elif mode == "round_prefer_ceil":
        idx = np.floor(x + 0.5)
    else:  # round_prefer_floor
        idx = np.ceil(x - 0.5)
    idx = np.clip(idx, 0, size - 1).astype(int)
    m = np.zeros((size * f, size))
    m[np.arange(size * f), idx] = 1.0
    return m


def _onnx_linear(size: int, f: int, a: float, b: float) -> np.ndarray:
    x = np.clip(_source(np.arange(size * f, dtype=np.float64), f, a, b), 0, size - 1)
    i0 = np.floor(x).astype(int)
    i1 = np.minimum(i0 + 1, size - 1)
    lam = x - i0
    m = np.zeros((size * f, size))
    rows = np.arange(size * f)
    np.add.at(m, (rows, i0), 1 - lam)
    np.add.at(m, (rows, i1), lam)
    return m


def _triangle(f: int, a: float, b: float) -> tuple[np.ndarray, int]:
    """The kernel of linear interpolation as a transposed convolution over the edge-padded input,
    and the first output of that convolution ONNX keeps. Output i of ONNX is full-output o = i +
    offset; padded input j sits at source coordinate j - 1, so the tap at t = o - j*f weighs
    1 - |(t - offset + a)/f + b + 1|."""
    # the smallest offset that keeps every non-zero tap at t >= 0
    offset = max(0, math.ceil(a + f * (b + 2) - 1))
    t = np.arange(0, offset + 3 * f)
    taps = np.maximum(0.0, 1 - np.abs((t - offset + a) / f + b + 1))
    last = int(np.nonzero(taps)[0].max()) + 1
    return taps[:last], offset


def _deconv_matrix(size: int, f: int, taps: np.ndarray, pad: int, offset: int) -> np.ndarray:
    """The (size*f) x size matrix computed by: edge-pad `pad`, transposed conv (stride f, `taps`),
    keep outputs offset .. offset + size*f."""
    m = np.zeros((size * f, size))
    for i in range(size * f):
        o = i + offset
        for j in range(size + 2 * pad):
            t = o - j * f
            if 0 <= t < len(taps):
                m[i, min(max(j - pad, 0), size - 1)] += taps[t]
    return m
