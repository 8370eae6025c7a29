"""Reductions and softmax-like ops over an axis."""

from __future__ import annotations


from ....errors import UnsupportedOp
from ..context import Ctx, call
from . import TABLE
from ._util import int_list, norm_axis


@TABLE.op("Softmax", "LogSoftmax")
def softmax(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = ctx.attr("axis", -1)
    axis = -1 if norm_axis(axis, rank) == rank - 1 else axis
    fn = "F.softmax" if ctx.node.op_type == "Softmax" else "F.log_softmax"
    return call(fn, ctx.x(0), dim=axis)




REDUCE = {
    "ReduceMean": "torch.mean", "ReduceSum": "torch.sum", "ReduceMax": "torch.amax", "ReduceMin": "torch.amin",
    "ReduceProd": "torch.prod",
}


@TABLE.op(*REDUCE)
def reduce(ctx: Ctx) -> str:
    op = ctx.node.op_type
    rank = ctx.need_rank(0)
    keep = bool(ctx.attr("keepdims", 1))
    axes = ctx.const(1) if ctx.has(1) else None
    if ctx.has(1) and axes is None:
        raise UnsupportedOp("axes must be a constant")
    if axes is None or axes.size == 0:
        if ctx.attr("noop_with_empty_axes", 0):
            return ctx.x(0)
        dims = list(range(rank))
    else:
        dims = sorted(norm_axis(a, rank) for a in int_list(axes))
    fn = REDUCE[op]
    if op == "ReduceProd":
        expr = ctx.x(0)
        for d in sorted(dims, reverse=True):
            expr = call(fn, expr, dim=d, keepdim=keep) if keep else call(fn, expr, dim=d)
        return expr
    kwargs = {"dim": tuple(dims) if len(dims) > 1 else dims[0]}
    if keep:
        kwargs["keepdim"] = True
    return call(fn, ctx.x(0), **kwargs)
