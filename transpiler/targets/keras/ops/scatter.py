"""Scatters: ScatterND, ScatterElements (and the old Scatter), TensorScatter.

`ops.scatter_update(data, indices, updates, reduction=...)` writes rows of `updates` at the
(N, k) index tuples of `indices`, combining duplicates by the reduction; every scatter here is
brought to that form (ScatterElements on the flattened data)."""

from __future__ import annotations

import numpy as np

from ..context import Ctx, lit
from . import TABLE
from ._util import axis_of
from .gather import as_int64, wrapped

REDUCTIONS = {"none": None, "add": "add", "mul": "mul", "max": "max", "min": "min"}


def _reduction(ctx: Ctx) -> str:
    r = ctx.attr("reduction", "none")
    r = r.decode() if isinstance(r, bytes) else str(r)
    if r not in REDUCTIONS:
        raise ctx.refuse(f"reduction {r!r}")
    kind = REDUCTIONS[r]
    return "" if kind is None else f", reduction={lit(kind)}"


def _size(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


@TABLE.op("ScatterND")
def scatter_nd(ctx: Ctx) -> str:
    reduction = _reduction(ctx)
    shape, ishape = ctx.static_shape(0), ctx.static_shape(1)
    k = ishape[-1]
    if not 1 <= k <= len(shape):
        raise ctx.refuse(f"index tuples of length {k}")
    n = _size(ishape[:-1])
    idx = wrapped(ctx, 1, np.array(shape[:k], dtype=np.int64))
    idx = f"ops.reshape({idx}, {lit((n, k))})"
    updates = f"ops.reshape({ctx.x(2)}, {lit((n, *shape[k:]))})"
    return f"ops.scatter_update({ctx.x(0)}, {idx}, {updates}{reduction})"


@TABLE.op("ScatterElements")
def scatter_elements(ctx: Ctx) -> str:
    """Entry p of the updates goes to the data position p with its `axis` coordinate replaced
    by indices[p]: in the flattened data, row_start[p] + indices[p] * stride[axis]."""
    reduction = _reduction(ctx)
    shape, ishape = ctx.static_shape(0), ctx.static_shape(1)
    rank = len(shape)
    if len(ishape) != rank:
        raise ctx.refuse("indices of another rank than the data")
    axis = axis_of(ctx, ctx.attr("axis", 0), rank)
    strides = [_size(shape[j + 1 :]) for j in range(rank)]
    # the flat position of each entry's row (its `axis` coordinate 0): constant along `axis`
    row = [1 if j == axis else n for j, n in enumerate(ishape)]
    start = np.zeros(row, dtype=np.int64)
    for j in range(rank):
        if j != axis:
            start += (np.arange(ishape[j], dtype=np.int64) * strides[j]).reshape([-1 if i == j else 1 for i in range(rank)])
    idx = wrapped(ctx, 1, lit(shape[axis]))
    pos = f"ops.multiply({idx}, {strides[axis]})" if strides[axis] != 1 else idx
    if start.any():
        pos = f"ops.add({pos}, {ctx.constant(np.ascontiguousarray(start), 'row_start')})"
    n = _size(ishape)
    flat = f"ops.reshape({ctx.x(0)}, (-1,))"
    scattered = f"ops.scatter_update({flat}, ops.reshape({pos}, {lit((n, 1))}), ops.reshape({ctx.x(2)}, (-1,)){reduction})"
    return f"ops.reshape({scattered}, {lit(shape)})"


@TABLE.op("TensorScatter")
def tensor_scatter(ctx: Ctx) -> str:
    """A cache update: position p of the sequence axis of batch entry b takes update entry
    p - write_indices[b] (mod the cache length in circular mode) when that lies in the update."""
    mode = ctx.attr("mode", "linear")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode not in ("linear", "circular"):
        raise ctx.refuse(f"mode {mode!r}")
    shape, ushape = ctx.static_shape(0), ctx.static_shape(1)
    rank = len(shape)
    axis = axis_of(ctx, ctx.attr("axis", -2), rank)
    if axis == 0:
        raise ctx.refuse("axis 0 (the batch axis)")
    length, n = shape[axis], ushape[axis]
    if n == 0:
        return ctx.x(0)
    steps = np.arange(length, dtype=np.int64).reshape([length if j == axis else 1 for j in range(rank)])
    rel = ctx.constant(steps, "steps")
    if ctx.has(2):
        start = f"ops.reshape({as_int64(ctx, 2)}, {lit((shape[0],) + (1,) * (rank - 1))})"
        rel = f"ops.subtract({rel}, {start})"
    if mode == "circular":
        rel = f"ops.mod({rel}, {length})"
    rel = ctx.assign("src", f"ops.broadcast_to({rel}, {lit(shape)})")
    inside = f"ops.logical_and(ops.greater_equal({rel}, 0), ops.less({rel}, {n}))"
    picked = f"ops.take_along_axis({ctx.x(1)}, ops.clip({rel}, 0, {n - 1}), axis={axis})"
    return f"ops.where({inside}, {picked}, {ctx.x(0)})"
