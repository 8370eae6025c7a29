"""Spectral ops: DFT as one einsum with a constant transform matrix.

ONNX carries complex numbers as a trailing dimension of size 2 (real, imaginary; size 1 for a
real signal). The transform along the axis is linear in (real, imaginary) pairs, so the whole DFT
(forward, inverse, one-sided, inverse one-sided, truncated or zero-padded to `dft_length`) is
`einsum("...jc,jcko->...ko", signal, W)` with W[j, c, k, o] computed here in float64 from exact
integer phases, and the sum taken in float64 (as numpy's FFT in the reference does). This works the same on every Keras backend (keras.ops.fft only transforms the
last axis, without a length or one-sided choice).

STFT, MelWeightMatrix and the window functions are not lowered: in the ONNX cases their sizes
(frame step and length, window length, bins) arrive as run-time inputs, and they decide the
output shape, which a static-shape Keras model cannot follow.
"""

from __future__ import annotations

import numpy as np

from .... import ir
from ..context import Ctx, lit
from . import TABLE


def _matrix(n_in: int, c_in: int, n: int, inverse: bool, onesided: bool) -> np.ndarray:
    """W[j, c, k, o]: output bin k, part o (0 real, 1 imaginary) from input j, part c."""
    if inverse and onesided:
        n_out, c_out = n, 1
        bins = n // 2 + 1
    else:
        n_out = n // 2 + 1 if onesided else n
        c_out, bins = 2, n
    used = min(n_in, bins)  # input rows past the transform length are cut off (zero rows)
    j = np.arange(used, dtype=np.int64)[:, None]
    k = np.arange(n_out, dtype=np.int64)[None, :]
    theta = 2.0 * np.pi * ((j * k) % n).astype(np.float64) / n  # exact phase: j*k mod n first
    cos, sin = np.cos(theta), np.sin(theta)
    w = np.zeros((n_in, c_in, n_out, c_out), dtype=np.float64)
    if inverse and onesided:
        # irfft: bins 1 .. ceil(n/2)-1 stand for their mirrored partners too; the imaginary
        # parts of bin 0 (and bin n/2 for even n) meet sin == 0, so they are ignored as numpy does
        weight = np.full((used, 1), 2.0)
        weight[0] = 1.0
        if n % 2 == 0 and used > n // 2:
            weight[n // 2] = 1.0
        w[:used, 0, :, 0] = weight * cos / n
        if c_in == 2:
            w[:used, 1, :, 0] = -weight * sin / n
        return w
    sign, scale = (1.0, 1.0 / n) if inverse else (-1.0, 1.0)
    # (a + ib)(cos + i*sign*sin) = (a cos - sign b sin) + i (b cos + sign a sin)
    w[:used, 0, :, 0] = cos * scale
    w[:used, 0, :, 1] = sign * sin * scale
    if c_in == 2:
        w[:used, 1, :, 0] = -sign * sin * scale
        w[:used, 1, :, 1] = cos * scale
    return w


def _dft_along(ctx: Ctx, x: str, shape: tuple[int, ...], axis: int, n: int | None, inverse: bool, onesided: bool) -> str:
    rank = len(shape)
    n_in, c_in = shape[axis], shape[-1]
    if n is None:
        n = 2 * (n_in - 1) if inverse and onesided else n_in
    if n < 1:
        raise ctx.refuse(f"the transform length {n} is not positive")
    w = _matrix(n_in, c_in, n, inverse, onesided)
    t = x if axis == rank - 2 else f"ops.moveaxis({x}, {axis}, -2)"
    y = f"ops.einsum({lit('...jc,jcko->...ko')}, {t}, {ctx.constant(w, 'dft_matrix')})"
    return y if axis == rank - 2 else f"ops.moveaxis({y}, -2, {axis})"


def _out_shape(shape: tuple[int, ...], axis: int, n: int | None, inverse: bool, onesided: bool) -> tuple[int, ...]:
    n_in = shape[axis]
    if n is None:
        n = 2 * (n_in - 1) if inverse and onesided else n_in
    if inverse and onesided:
        return shape[:axis] + (n,) + shape[axis + 1:-1] + (1,)
    return shape[:axis] + (n // 2 + 1 if onesided else n,) + shape[axis + 1:-1] + (2,)


@TABLE.op("DFT")
def dft(ctx: Ctx) -> str:
    shape = ctx.static_shape(0)
    rank = len(shape)
    if ctx.elem(0) not in (ir.FLOAT, ir.DOUBLE, ir.FLOAT16):
        raise ctx.refuse("the DFT signal must be float16, float32 or float64")
    if shape[-1] not in (1, 2):
        raise ctx.refuse("the trailing (real, imaginary) dimension must be 1 or 2")
    inverse, onesided = bool(ctx.attr("inverse", 0)), bool(ctx.attr("onesided", 0))
    n = None
    if ctx.has(1):
        n = int(np.asarray(ctx.need_const(1, "dft_length")).reshape(-1)[0])
    x = ctx.x(0)
    dtype = ctx.dtype(ctx.elem(0))
    if dtype != "float64":
        # summed in float64 like the reference (numpy's FFT), rounded to the signal's type once
        x = ctx.assign("signal", f"ops.cast({x}, {lit('float64')})")
    want = ctx.out_static(0)
    if not ctx.has(2) or ctx.const(2) is not None:
        axis = int(np.asarray(ctx.const(2)).reshape(-1)[0]) if ctx.has(2) else -2
        if not (-rank <= axis <= rank - 2 and axis != -1):
            raise ctx.refuse(f"axis {axis} is not a signal axis")
        axis %= rank
        if _out_shape(shape, axis, n, inverse, onesided) != want:
            raise ctx.refuse("the DFT's result does not have the declared output shape")
        return _finish(_dft_along(ctx, x, shape, axis, n, inverse, onesided), dtype)
    # a run-time axis: transform along every axis that yields the declared output shape and
    # select the one asked for (a selection, so the result is each candidate's, exactly)
    axes = [a for a in range(rank - 1) if _out_shape(shape, a, n, inverse, onesided) == want]
    if not axes:
        raise ctx.refuse("no axis gives the DFT's declared output shape")
    a_code = ctx.assign("dft_axis", f"ops.mod(ops.reshape({ctx.x(2)}, ()), {rank})")
    result = _dft_along(ctx, x, shape, axes[-1], n, inverse, onesided)
    for a in reversed(axes[:-1]):
        result = f"ops.where(ops.equal({a_code}, {a}), {_dft_along(ctx, x, shape, a, n, inverse, onesided)}, {result})"
        result = ctx.assign("spectrum", result)
    return _finish(result, dtype)


def _finish(y: str, dtype: str) -> str:
    return y if dtype == "float64" else f"ops.cast({y}, {lit(dtype)})"


@TABLE.op("STFT")
def stft(ctx: Ctx) -> str:
    """Frames gathered with a constant index table, weighted by the window, then the DFT of
    each frame by the same einsum as DFT (over the frame axis)."""
    shape = ctx.static_shape(0)
    if len(shape) != 3 or shape[-1] not in (1, 2):
        raise ctx.refuse("the signal must be (batch, length, 1 or 2)")
    if ctx.elem(0) not in (ir.FLOAT, ir.DOUBLE, ir.FLOAT16):
        raise ctx.refuse("the signal must be float16, float32 or float64")
    step = int(np.asarray(ctx.need_const(1, "frame_step (it decides the number of frames)")).reshape(-1)[0])
    has_window = ctx.n_in > 2 and ctx.has(2)
    wlen = ctx.static_shape(2)[0] if has_window else None
    if ctx.n_in > 3 and ctx.has(3):
        n = int(np.asarray(ctx.need_const(3, "frame_length (it decides the output shape)")).reshape(-1)[0])
    else:
        n = wlen if wlen is not None else shape[1]
    if wlen is not None and wlen != n:
        raise ctx.refuse("the window's length differs from frame_length")
    if step < 1 or n < 1 or n > shape[1]:
        raise ctx.refuse("frame_step and frame_length must be positive, the frame no longer than the signal")
    onesided = bool(ctx.attr("onesided", 1))
    frames = (shape[1] - n) // step + 1
    idx = (np.arange(frames, dtype=np.int64)[:, None] * step + np.arange(n, dtype=np.int64)[None, :])
    x = f"ops.take({ctx.x(0)}, {ctx.constant(idx, 'frame_index')}, axis=1)"  # (batch, frames, n, c)
    if has_window:
        x = f"{x} * ops.reshape({ctx.x(2)}, {lit((n, 1))})"
    dtype = ctx.dtype(ctx.elem(0))
    x = ctx.assign("frames", x)
    if dtype != "float64":
        x = ctx.assign("frames", f"ops.cast({x}, {lit('float64')})")
    w = _matrix(n, shape[-1], n, False, onesided)
    y = f"ops.einsum({lit('...jc,jcko->...ko')}, {x}, {ctx.constant(w, 'dft_matrix')})"
    return _finish(y, dtype)
