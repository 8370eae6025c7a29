"""Gathers: GatherElements, GatherND, Compress, ReverseSequence (`ops.take` / `ops.take_along_axis`).

ONNX lets indices count from the end (-1 is the last entry); `take_along_axis` does not on
every backend, so run-time indices are wrapped first (constants are wrapped here)."""

from __future__ import annotations

import numpy as np

from .... import ir
from ..context import Ctx, lit
from . import TABLE
from ._util import axis_of


def axis_size(ctx: Ctx, i: int, axis: int) -> str:
    """Code for the size of axis `axis` of input i: a literal when the IR knows it, else Keras'
    own static shape (every tensor of the functional model has one)."""
    shape = ctx.shape(i)
    if shape is not None and isinstance(shape[axis], int):
        return lit(shape[axis])
    return f"ops.shape({ctx.x(i)})[{axis}]"


def wrapped(ctx: Ctx, i: int, size: str | np.ndarray) -> str:
    """Indices input i with negative entries counted from the end of an axis of `size`
    (code, or an array of sizes broadcast along the last axis)."""
    if isinstance(size, np.ndarray) and size.size and (size == size.flat[0]).all():
        size = lit(int(size.flat[0]))  # one size for every axis
    c = ctx.const(i)
    if c is not None and (isinstance(size, np.ndarray) or size.isdigit()):
        bound = size if isinstance(size, np.ndarray) else int(size)
        return ctx.constant(np.where(c < 0, c + bound, c).astype(np.int64), "index")
    idx = ctx.x(i)
    if not idx.isidentifier():
        idx = ctx.assign("idx", idx)  # read three times below
    add = ctx.constant(size, "size") if isinstance(size, np.ndarray) else size
    return f"ops.where(ops.less({idx}, 0), ops.add({idx}, {add}), {idx})"


def as_int64(ctx: Ctx, i: int) -> str:
    """Input i as int64 (ONNX index inputs are int32 or int64)."""
    return ctx.x(i) if ctx.elem(i) == ir.INT64 else f"ops.cast({ctx.x(i)}, 'int64')"


@TABLE.op("GatherElements")
def gather_elements(ctx: Ctx) -> str:
    rank = ctx.rank(0) if ctx.rank(0) is not None else ctx.need_rank(1)  # the ranks are equal
    axis = axis_of(ctx, ctx.attr("axis", 0), rank)
    x = ctx.x(0)
    data, idx = ctx.shape(0), ctx.shape(1)
    # indices may be shorter than the data on the other axes too: take_along_axis wants them equal
    if data is not None and idx is not None and len(data) == len(idx):
        cut = [d != n and k != axis for k, (d, n) in enumerate(zip(data, idx))]
        if any(cut):
            if not all(isinstance(n, int) for k, n in enumerate(idx) if cut[k]):
                raise ctx.refuse("indices smaller than the data along a dimension of unknown size")
            parts = [f":{n}" if cut[k] else ":" for k, n in enumerate(idx)]
            x = f"{x}[{', '.join(parts)}]"
    return f"ops.take_along_axis({x}, {wrapped(ctx, 1, axis_size(ctx, 0, axis))}, axis={axis})"


@TABLE.op("GatherND")
def gather_nd(ctx: Ctx) -> str:
    """data[b..., i_0, ..., i_k-1, ...] as one `take` along the flattened indexed axes."""
    b = int(ctx.attr("batch_dims", 0))
    shape = ctx.static_shape(0)
    ishape = ctx.static_shape(1)
    k = ishape[-1]
    if k < 1 or b + k > len(shape):
        raise ctx.refuse(f"index tuples of length {k}")
    batch, indexed, rest = shape[:b], shape[b : b + k], shape[b + k :]
    n_indexed = int(np.prod(indexed, dtype=np.int64))
    flat = f"ops.reshape({ctx.x(0)}, {lit((int(np.prod(batch, dtype=np.int64)) * n_indexed, *rest))})"
    idx = wrapped(ctx, 1, np.array(indexed, dtype=np.int64))
    if k == 1:
        pos = f"ops.squeeze({idx}, -1)"
    else:
        strides = np.array([int(np.prod(indexed[j + 1 :], dtype=np.int64)) for j in range(k)], dtype=np.int64)
        pos = f"ops.sum(ops.multiply({idx}, {ctx.constant(strides, 'strides')}), axis=-1)"
    if b:
        # each batch entry indexes its own block of the flattened data
        offsets = (np.arange(int(np.prod(batch, dtype=np.int64)), dtype=np.int64) * n_indexed).reshape(
            batch + (1,) * (len(ishape) - 1 - b)
        )
        pos = f"ops.add({pos}, {ctx.constant(offsets, 'offsets')})"
    return f"ops.take({flat}, {pos}, axis=0)"


@TABLE.op("Compress")
def compress(ctx: Ctx) -> str:
    axis = ctx.attr("axis")
    x = ctx.x(0)
    if axis is None:
        size = int(np.prod(ctx.static_shape(0), dtype=np.int64))
        x, axis = f"ops.reshape({x}, (-1,))", 0
    else:
        axis = axis_of(ctx, int(axis), ctx.need_rank(0))
        size = ctx.static_shape(0)[axis]
    cond = ctx.const(1)
    if cond is not None:
        keep = np.flatnonzero(cond.reshape(-1)[:size]).astype(np.int64)
        return f"ops.take({x}, {ctx.constant(keep, 'keep')}, axis={axis})"
    # a condition known only at run time: the output length is the static one the model declares;
    # the j-th kept position is where the running count of true entries first reaches j + 1
    out = ctx.out_shape(0)
    n = out[axis] if out is not None and len(out) > axis else None
    if not isinstance(n, int):
        raise ctx.refuse("a condition given at run time with an output length unknown at conversion time")
    (length,) = ctx.static_shape(1)
    c = ctx.x(1)
    if length > size:
        c = f"{c}[:{size}]"  # entries past the end of the axis select nothing
    count = f"ops.cumsum(ops.cast({c}, 'int64'))"
    keep = f"ops.searchsorted({count}, ops.arange(1, {n + 1}, dtype='int64'), side='left')"
    return f"ops.take({x}, {keep}, axis={axis})"


@TABLE.op("ReverseSequence")
def reverse_sequence(ctx: Ctx) -> str:
    """Entry t of sequence b is taken from position len_b - 1 - t while t < len_b."""
    shape = ctx.static_shape(0)
    b_axis, t_axis = int(ctx.attr("batch_axis", 1)), int(ctx.attr("time_axis", 0))
    if sorted((b_axis, t_axis)) != [0, 1]:
        raise ctx.refuse(f"batch_axis={b_axis}, time_axis={t_axis}")
    steps = np.arange(shape[t_axis], dtype=np.int64).reshape((-1, 1) if t_axis == 0 else (1, -1))
    t = ctx.constant(steps, "steps")
    if not t.isidentifier():
        t = ctx.assign("steps", t)  # read three times below
    lens = ctx.assign("lens", f"ops.expand_dims({as_int64(ctx, 1)}, {t_axis})")
    src = f"ops.where(ops.less({t}, {lens}), {lens} - 1 - {t}, {t})"
    if len(shape) > 2:
        src = f"ops.broadcast_to(ops.reshape({src}, {lit(shape[:2] + (1,) * (len(shape) - 2))}), {lit(shape)})"
    return f"ops.take_along_axis({ctx.x(0)}, {src}, axis={t_axis})"
