"""Layout ops: Flatten, Reshape/Squeeze/Unsqueeze, Transpose -> Permute, Concat, Slice, Split."""

from __future__ import annotations

import numpy as np

from ....errors import UnsupportedOp
from ..net import Ctx, axis_of
from . import TABLE
from ._util import crop


@TABLE.op("Flatten")
def flatten(ctx: Ctx) -> str:
    rank = ctx.rank(0)
    axis = axis_of(int(ctx.attr("axis", 1)), rank) if rank else 0
    if axis == 1:
        return str(ctx.layer("Flatten", [ctx.blob(0)]))
    # Caffe's Flatten keeps the axes before `axis`; ONNX's folds them into one: a Reshape
    return _reshape(ctx, list(ctx.out_shape(0)))


@TABLE.op("Reshape")
def reshape(ctx: Ctx) -> str:
    spec = ctx.const(1)
    if spec is None:
        raise UnsupportedOp("the target shape must be a constant")
    dims = [int(d) for d in spec.reshape(-1)]
    if ctx.attr("allowzero", 0) and 0 in dims:
        raise UnsupportedOp("allowzero=1 with a 0 dimension: Caffe reads 0 as 'copy'")
    # Caffe's Reshape reads 0 (copy the input's dimension) and -1 (infer) exactly as ONNX does
    return _reshape(ctx, dims)


@TABLE.op("Squeeze", "Unsqueeze")
def squeeze(ctx: Ctx) -> str:
    return _reshape(ctx, list(ctx.out_shape(0)))


def _reshape(ctx: Ctx, dims: list[int]) -> str:
    return str(ctx.layer("Reshape", [ctx.blob(0)], {"reshape_param": {"shape": {"dim": dims}}}))


@TABLE.op("Transpose")
def transpose(ctx: Ctx) -> str:
    rank = ctx.rank(0)
    perm = [int(p) for p in (ctx.attr("perm") or list(range(rank))[::-1])]
    if perm == list(range(rank)):
        return ctx.blob(0)
    return str(ctx.layer("Permute", [ctx.blob(0)], {"permute_param": {"order": perm}}))


@TABLE.op("Concat")
def concat(ctx: Ctx) -> str:
    axis = axis_of(int(ctx.attr("axis")), ctx.rank(0))
    bottoms = [ctx.blob(i) for i in range(len(ctx.node.inputs))]
    if len(bottoms) == 1:  # a concatenation of one tensor is that tensor
        return bottoms[0]
    params = {} if axis == 1 else {"concat_param": {"axis": axis}}
    return str(ctx.layer("Concat", bottoms, params))


@TABLE.op("Slice")
def slice_(ctx: Ctx) -> str:
    shape = ctx.shape(0)
    rank = len(shape)
    starts, ends = ctx.const(1), ctx.const(2)
    axes = ctx.const(3) if ctx.input(3) is not None else np.arange(len(starts) if starts is not None else 0)
    steps = ctx.const(4) if ctx.input(4) is not None else None
    if starts is None or ends is None or axes is None or (ctx.input(4) is not None and steps is None):
        raise UnsupportedOp("starts/ends/axes/steps must be constants")
    if steps is not None and np.any(steps != 1):
        raise UnsupportedOp("strided slices have no Caffe layer (Slice cuts contiguous pieces)")
    ranges = []
    for s, e, a in zip(starts.reshape(-1), ends.reshape(-1), axes.reshape(-1)):
        a = axis_of(int(a), rank)
        size = shape[a]
        s, e = int(s), int(e)
        s = min(max(s + size if s < 0 else s, 0), size)
        e = min(max(e + size if e < 0 else e, 0), size)
        if e <= s:
            raise UnsupportedOp("an empty slice has no Caffe blob")
        if (s, e) != (0, size):
            ranges.append((a, s, e - s, size))
    top = ctx.blob(0)
    if not ranges:
        return top
    for n, (a, s, length, size) in enumerate(sorted(ranges)):
        top = crop(ctx, top, a, s, length, size, final=n == len(ranges) - 1)
    return top


@TABLE.op("Split")
def split(ctx: Ctx) -> list[str]:
    shape = ctx.shape(0)
    axis = axis_of(int(ctx.attr("axis", 0)), len(shape))
    sizes = [ctx.out_shape(i)[axis] for i in range(len(ctx.node.outputs))]
    if sum(sizes) != shape[axis] or any(s == 0 for s in sizes):
        raise UnsupportedOp("the pieces do not tile the axis")
    if len(sizes) == 1:
        return [ctx.blob(0)]
    points = list(np.cumsum(sizes)[:-1].tolist())
    tops = ctx.layer("Slice", [ctx.blob(0)], {"slice_param": {"axis": axis, "slice_point": points}}, tops=len(sizes))
    assert isinstance(tops, list)
    return tops
