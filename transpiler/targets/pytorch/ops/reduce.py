"""Reductions and ops over an axis: Reduce*, ArgMax/ArgMin, Softmax-like, Hardmax, TopK,
CumSum/CumProd."""

from __future__ import annotations

from typing import Any

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..context import Code, Ctx, call, lit
from . import TABLE
from ._util import int_list, is_float, norm_axis

# uint16/uint32 values fit int64 exactly; PyTorch has few kernels for them.
WIDENED = {ir.UINT16: "torch.uint16", ir.UINT32: "torch.uint32"}
UNSIGNED = {ir.UINT16, ir.UINT32, ir.UINT64}
SIGNED_VIEW = {ir.UINT16: "torch.int16", ir.UINT32: "torch.int32", ir.UINT64: "torch.int64"}
INTS = {ir.INT8: np.int8, ir.INT16: np.int16, ir.INT32: np.int32, ir.INT64: np.int64, ir.UINT8: np.uint8}


@TABLE.op("Softmax", "LogSoftmax")
def softmax(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = ctx.attr("axis", -1)
    axis = -1 if norm_axis(axis, rank) == rank - 1 else axis
    fn = "F.softmax" if ctx.node.op_type == "Softmax" else "F.log_softmax"
    return call(fn, ctx.x(0), dim=axis)


@TABLE.op("Hardmax")
def hardmax(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = norm_axis(ctx.attr("axis", -1), rank)
    axis = -1 if axis == rank - 1 else axis
    x = ctx.x(0)
    # a one-hot of the first maximum along the axis
    return f"torch.zeros_like({x}).scatter({axis}, {call(f'{x}.argmax', lit(axis), keepdim=True)}, 1)"


# -- Reduce* ----------------------------------------------------------------------------------

REDUCE_OPS = (
    "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
    "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare",
)


@TABLE.op(*REDUCE_OPS)
def reduce(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    keep = bool(ctx.attr("keepdims", 1))
    noop = bool(ctx.attr("noop_with_empty_axes", 0))
    axes = ctx.const(1) if ctx.has(1) else None
    x = ctx.x(0)
    if ctx.has(1) and axes is None:
        # axes known only at run time; torch reduces every dimension for dim=()
        dims = ctx.tmp("dims")
        ctx.stmt(f"{dims} = tuple({ctx.x(1)}.tolist())")
        expr = _reduction(ctx, x, Code(dims), keep)
        return f"{x} if not {dims} else {expr}" if noop else expr
    if axes is None or axes.size == 0:
        if noop:
            return x
        all_dims: list[int] = list(range(rank))
    else:
        all_dims = sorted({norm_axis(a, rank) for a in int_list(axes) or []})
    return _reduction(ctx, x, all_dims, keep)


def _dim_kwargs(dims: list[int] | Code, keep: bool, rank: int) -> dict[str, Any]:
    """dim= / keepdim= of a torch reduction; nothing at all for a full reduction to a scalar."""
    if isinstance(dims, Code):
        return {"dim": dims, "keepdim": True} if keep else {"dim": dims}
    if not keep and len(dims) == rank:
        return {}
    kwargs: dict[str, Any] = {"dim": tuple(dims) if len(dims) != 1 else dims[0]}
    if keep:
        kwargs["keepdim"] = True
    return kwargs


def _reduction(ctx: Ctx, x: str, dims: list[int] | Code, keep: bool) -> str:
    op = ctx.node.op_type
    elem = ctx.elem(0)
    rank = ctx.need_rank(0)
    kw = _dim_kwargs(dims, keep, rank)
    dtype = ctx.dtype(elem)
    floating = is_float(elem)
    if elem == ir.UINT64 and op not in ("ReduceSum", "ReduceSumSquare", "ReduceProd", "ReduceL1"):
        raise UnsupportedOp(f"{op} of uint64")
    # torch sums integers into int64: ask for the input's type back (sums wrap as in ONNX)
    int_kw = {} if floating or elem == ir.INT64 else {"dtype": Code(dtype)}
    back = ""
    if elem in UNSIGNED:
        # computed on int64 (uint64: its bits; sums and products wrap alike), then cast back
        int_kw = {}
        x, back = (f"{x}.to(torch.int64)", f".to({dtype})") if elem in WIDENED else (
            f"{x}.view(torch.int64)", ".view(torch.uint64)"
        )

    def summed(t: str) -> str:
        return call("torch.sum", t, **kw, **int_kw) + back

    if op == "ReduceSum":
        return summed(x)
    if op == "ReduceSumSquare":
        return summed(call("torch.square", x))
    if op == "ReduceL1":
        if floating:
            return call("torch.linalg.vector_norm", x, ord=1, **kw)
        return summed(x if elem in UNSIGNED else call("torch.abs", x))
    if op == "ReduceL2":
        if floating:
            return call("torch.linalg.vector_norm", x, **kw)
        # ONNX: the square root of the integer sum, truncated back to the integer type
        total = call("torch.sum", call("torch.square", x), **kw)
        return f"torch.sqrt({total}.double()).to({dtype})"
    if op in ("ReduceLogSum", "ReduceLogSumExp") and not floating:
        raise UnsupportedOp(f"{op} of integers")
    if op == "ReduceLogSum":
        return call("torch.log", call("torch.sum", x, **kw))
    if op == "ReduceLogSumExp":
        return call("torch.logsumexp", x, **(kw or {"dim": tuple(range(rank))}))
    if op == "ReduceMean":
        if not floating:
            raise UnsupportedOp("ReduceMean of integers")
        return call("torch.mean", x, **kw)
    if op == "ReduceProd":
        return _prod(ctx, x, dims, keep, int_kw) + back
    # ReduceMax / ReduceMin
    is_max = op == "ReduceMax"
    fn = "torch.amax" if is_max else "torch.amin"
    shape = ctx.shape(0)
    if shape is not None and any(d == 0 for d in shape):
        # the input is empty: ONNX's max of no values is the lowest value of the type (-inf for
        # floats), its min the highest; the result has the shape a sum would have
        fill = _extreme(elem, lowest=is_max)
        like = call("torch.sum", x, **kw)
        if floating:
            return call("torch.full_like", like, lit(fill))
        return call("torch.full_like", like, lit(fill), dtype=Code(dtype))
    return call(fn, x, **kw) + back


def _extreme(elem: int, lowest: bool) -> Any:
    if elem == ir.BOOL:
        return not lowest
    if is_float(elem):
        return float("-inf") if lowest else float("inf")
    np_type = {ir.UINT16: np.uint16, ir.UINT32: np.uint32, **INTS}.get(elem)
    if np_type is None:
        raise UnsupportedOp(f"no extreme value for element type {elem}")
    info = np.iinfo(np_type)
    return int(info.min if lowest else info.max)


def _prod(ctx: Ctx, x: str, dims: list[int] | Code, keep: bool, int_kw: dict[str, Any]) -> str:
    """torch.prod takes one dimension: several become nested calls (innermost last dim first)."""
    rank = ctx.need_rank(0)
    if isinstance(dims, Code):
        return call(ctx.helper("prod_over"), x, dims, keepdim=keep, **int_kw)
    if not keep and len(dims) == rank:
        return call("torch.prod", x, **int_kw)
    expr = x
    for d in sorted(dims, reverse=True):
        expr = call("torch.prod", expr, lit(d), **({"keepdim": True} if keep else {}), **int_kw)
    return expr


# -- ArgMax / ArgMin, TopK ------------------------------------------------------------------------


def _ordered(ctx: Ctx, x: str) -> str:
    """x in a type PyTorch can compare, with the same order."""
    elem = ctx.elem(0)
    if elem in WIDENED:
        return f"{x}.to(torch.int64)"
    if elem == ir.UINT64:
        return call(ctx.helper("uint64_key"), x)
    return x


def _last_index(ctx: Ctx, x: str, axis: int) -> str:
    """Code for the last index along `axis` of input 0."""
    shape = ctx.shape(0)
    if shape is not None and isinstance(shape[axis], int):
        return lit(shape[axis] - 1)
    return f"{x}.shape[{axis}] - 1"


@TABLE.op("ArgMax", "ArgMin")
def arg_max_min(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = norm_axis(ctx.attr("axis", 0), rank)
    keep = bool(ctx.attr("keepdims", 1))
    fn = "torch.argmax" if ctx.node.op_type == "ArgMax" else "torch.argmin"
    x = _ordered(ctx, ctx.x(0))
    kw: dict[str, Any] = {"dim": axis, "keepdim": True} if keep else {"dim": axis}
    if not ctx.attr("select_last_index", 0):
        return call(fn, x, **kw)  # torch returns the first of equal extremes, as ONNX does
    # the last of equal extremes: the first one in the flipped tensor, counted from the end
    return f"{_last_index(ctx, ctx.x(0), axis)} - {call(fn, f'{x}.flip({axis})', **kw)}"


@TABLE.op("TopK")
def top_k(ctx: Ctx) -> list[str]:
    rank = ctx.need_rank(0)
    axis = norm_axis(ctx.attr("axis", -1), rank)
    largest = bool(ctx.attr("largest", 1))
    k_const = ctx.const(1)
    if k_const is not None:
        k = lit(int(k_const.reshape(-1)[0]))
    else:
        k = ctx.tmp("k")
        ctx.stmt(f"{k} = int({ctx.x(1)})")
    x = ctx.x(0)
    # ONNX puts the lower index first among equal values: a stable sort does that, torch.topk
    # does not promise it
    values, indices = ctx.tmp("sorted"), ctx.tmp("order")
    kw: dict[str, Any] = {"dim": axis if axis != rank - 1 else -1}
    if largest:
        kw["descending"] = True
    elem = ctx.elem(0)
    if elem in UNSIGNED:
        # sort an ordered copy, then gather the values (as same-width signed bits) in that order
        keys = ctx.tmp("keys")
        ctx.stmt(f"{keys}, {indices} = {call('torch.sort', _ordered(ctx, x), **kw, stable=True)}")
        gathered = call("torch.gather", f"{x}.view({SIGNED_VIEW[elem]})", lit(axis), indices)
        ctx.stmt(f"{values} = {gathered}.view({ctx.dtype(elem)})")
    else:
        ctx.stmt(f"{values}, {indices} = {call('torch.sort', x, **kw, stable=True)}")
    index = _index_along(axis, rank, f":{k}")
    return [f"{values}{index}", f"{indices}{index}"]


def _index_along(axis: int, rank: int, item: str) -> str:
    """`[:, :, item]`, or `[..., item]` when that is shorter."""
    if axis == rank - 1 and axis > 1:
        return f"[..., {item}]"
    return "[" + ", ".join([":"] * axis + [item]) + "]"


# -- CumSum / CumProd ---------------------------------------------------------------------------


@TABLE.op("CumSum", "CumProd")
def cumulative(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    fn = "torch.cumsum" if ctx.node.op_type == "CumSum" else "torch.cumprod"
    axis_c = ctx.const(1)
    if axis_c is not None:
        dim = lit(norm_axis(int(axis_c.reshape(-1)[0]), rank))
    else:
        dim = ctx.tmp("dim")
        ctx.stmt(f"{dim} = int({ctx.x(1)})")
    elem = ctx.elem(0)
    x = ctx.x(0)
    kw: dict[str, Any] = {}
    back = ""
    if elem in UNSIGNED:
        # computed on int64 bits: sums and products wrap identically modulo 2**64
        x = f"{x}.to(torch.int64)" if elem in WIDENED else f"{x}.view(torch.int64)"
        back = f".to({ctx.dtype(elem)})" if elem in WIDENED else ".view(torch.uint64)"
    elif not is_float(elem) and elem != ir.INT64:
        kw["dtype"] = Code(ctx.dtype(elem))  # torch accumulates integers into int64 otherwise
    reverse = bool(ctx.attr("reverse", 0))
    if reverse:
        x = f"{x}.flip({dim})"
    if ctx.attr("exclusive", 0):
        # each position sees only what precedes it: shift the input one step, the identity in front
        x = call(ctx.helper("shift_along"), x, dim, "0" if fn == "torch.cumsum" else "1")
    expr = call(fn, x, dim, **kw)
    if reverse:
        expr = f"{expr}.flip({dim})"
    return expr + back
