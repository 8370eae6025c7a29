"""Reductions (`ops.sum`, `ops.mean`, ...), ArgMax/ArgMin, CumSum, TopK-free reductions; with
keepdims the layout is kept and the axes remapped, without it the ONNX layout is used."""

from __future__ import annotations

from ..context import FLOATS, Ctx, lit
from . import TABLE
from ._util import axis_of, const_ints

REDUCE = {
    "ReduceSum": "ops.sum", "ReduceMean": "ops.mean", "ReduceMax": "ops.max", "ReduceMin": "ops.min",
    "ReduceProd": "ops.prod", "ReduceL1": None, "ReduceL2": None, "ReduceLogSum": None,
    "ReduceLogSumExp": "ops.logsumexp", "ReduceSumSquare": None,
}


@TABLE.op(*REDUCE)
def reduce(ctx: Ctx) -> str:
    op = ctx.node.op_type
    rank = ctx.need_rank(0)
    keep = bool(ctx.attr("keepdims", 1))
    if ctx.has(1) and ctx.const(1) is None:
        raise ctx.refuse("the axes must be a constant")
    axes = [axis_of(ctx, a, rank) for a in const_ints(ctx, 1, "axes")] if ctx.has(1) else []
    if not axes:
        if ctx.attr("noop_with_empty_axes", 0):
            perm = ctx.perm(0)
            ctx.set_perm(0, perm)
            return ctx.x(0, perm)
        axes = list(range(rank))
    shape = ctx.shape(0)
    if shape is not None and any(shape[a] == 0 for a in axes) and op in ("ReduceMax", "ReduceMin"):
        raise ctx.refuse("ReduceMax/ReduceMin over an empty axis")
    if op in ("ReduceMean", "ReduceLogSumExp", "ReduceL2", "ReduceLogSum") and ctx.elem(0) not in FLOATS:
        raise ctx.refuse(f"{op} of integers")
    perm = ctx.perm(0) if keep else None
    x = ctx.x(0, perm)
    ctx.set_perm(0, perm)
    kaxes = tuple(sorted(perm.index(a) for a in axes)) if perm is not None else tuple(axes)
    ax = f"axis={lit(kaxes if len(kaxes) > 1 else kaxes[0])}"
    kd = ", keepdims=True" if keep else ""
    fn = REDUCE[op]
    if fn is not None:
        return f"{fn}({x}, {ax}{kd})"
    if op == "ReduceL1":
        return f"ops.sum(ops.abs({x}), {ax}{kd})"
    if op == "ReduceL2":
        return f"ops.sqrt(ops.sum(ops.square({x}), {ax}{kd}))"
    if op == "ReduceLogSum":
        return f"ops.log(ops.sum({x}, {ax}{kd}))"
    return f"ops.sum(ops.square({x}), {ax}{kd})"


@TABLE.op("ArgMax", "ArgMin")
def argmax(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = axis_of(ctx, ctx.attr("axis", 0), rank)
    fn = "ops.argmax" if ctx.node.op_type == "ArgMax" else "ops.argmin"
    keep = ", keepdims=True" if ctx.attr("keepdims", 1) else ""
    x = ctx.x(0)
    if ctx.attr("select_last_index", 0):
        shape = ctx.shape(0)
        n = shape[axis] if shape is not None else None
        if not isinstance(n, int):
            raise ctx.refuse("select_last_index=1 needs a static size along the axis")
        # the first index in the reversed tensor is the last one in the original
        return f"ops.subtract({n - 1}, ops.cast({fn}(ops.flip({x}, axis={axis}), axis={axis}{keep}), 'int64'))"
    return f"ops.cast({fn}({x}, axis={axis}{keep}), 'int64')"


@TABLE.op("CumSum")
def cumsum(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = axis_of(ctx, int(ctx.need_const(1, "axis").reshape(())), rank)
    x = ctx.x(0)
    rev = ctx.attr("reverse", 0)
    if rev:
        x = f"ops.flip({x}, axis={axis})"
    y = f"ops.cumsum({x}, axis={axis})"
    if ctx.attr("exclusive", 0):
        y = f"ops.subtract({y}, {x})"
    if rev:
        y = f"ops.flip({y}, axis={axis})"
    return y
