"""Indexing: Gather and its element / N-d forms, the Scatter family, Compress, NonZero, OneHot.

ONNX lets indices count from the end (-1 is the last entry). Python indexing (`x[idx]`,
`index_put`) already does; `gather` / `scatter` do not, so their indices are wrapped with
`idx % size` unless they are constants known to be non-negative."""

from __future__ import annotations

from .... import ir
from ....errors import UnsupportedOp
from ..context import Ctx, call, lit
from . import TABLE
from ._util import norm_axis

# ONNX reduction -> Tensor.scatter_reduce's name for it
SCATTER_REDUCE = {"mul": "prod", "max": "amax", "min": "amin"}


def _attr_str(ctx: Ctx, key: str, default: str) -> str:
    v = ctx.attr(key, default)
    return v.decode() if isinstance(v, bytes) else str(v)


def _axis_size(ctx: Ctx, i: int, axis: int) -> str:
    shape = ctx.shape(i)
    if shape is not None and axis < len(shape) and isinstance(shape[axis], int):
        return lit(shape[axis])
    return f"{ctx.x(i)}.shape[{axis}]"


def _wrapped_indices(ctx: Ctx, i: int, data: int, axis: int) -> str:
    """Input i as indices into axis `axis` of input `data`, negative ones wrapped to the front."""
    c = ctx.const(i)
    if c is not None and c.size and c.min() >= 0:
        return ctx.x(i)
    return f"{ctx.x(i)} % {_axis_size(ctx, data, axis)}"


@TABLE.op("Gather")
def gather(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = norm_axis(ctx.attr("axis", 0), rank)
    data, idx = ctx.const(0), ctx.const(1)
    if (
        data is not None and axis == 0 and data.ndim == 2 and ctx.elem(0) in ir.FLOAT_TYPES
        and ctx.elem(1) == ir.INT64 and idx is None
    ):
        m = ctx.module(call("nn.Embedding", lit(int(data.shape[0])), lit(int(data.shape[1]))), {"weight": data})
        return f"{m}({ctx.x(1)})"
    if idx is not None and idx.ndim == 0:
        i = int(idx)
        return f"{ctx.x(0)}[{', '.join([':'] * axis + [str(i)])}]"
    return f"{ctx.x(0)}[{', '.join([':'] * axis + [ctx.x(1)])}]"


@TABLE.op("GatherElements")
def gather_elements(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = norm_axis(ctx.attr("axis", 0), rank)
    return f"{ctx.x(0)}.gather({axis}, {_wrapped_indices(ctx, 1, 0, axis)})"


@TABLE.op("GatherND")
def gather_nd(ctx: Ctx) -> str:
    batch_dims = int(ctx.attr("batch_dims", 0))
    if batch_dims:
        return call(ctx.helper("gather_nd"), ctx.x(0), ctx.x(1), batch_dims=batch_dims)
    return f"{ctx.x(0)}[{_index_tuple(ctx, 1)}]"


def _index_tuple(ctx: Ctx, i: int) -> str:
    """The last axis of indices input i as a tuple of index tensors: `idx[..., 0], idx[..., 1]`."""
    shape = ctx.shape(i)
    k = shape[-1] if shape else None
    idx = ctx.x(i)
    if isinstance(k, int) and 1 <= k <= 3:
        return ", ".join(f"{idx}[..., {j}]" for j in range(k))
    return f"{idx}.unbind(-1)"


@TABLE.op("ScatterElements")
def scatter_elements(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = norm_axis(ctx.attr("axis", 0), rank)
    reduction = _attr_str(ctx, "reduction", "none")
    data, updates = ctx.x(0), ctx.x(2)
    idx = _wrapped_indices(ctx, 1, 0, axis)
    if reduction == "none":
        return f"{data}.scatter({axis}, {idx}, {updates})"
    if reduction == "add":
        return f"{data}.scatter_add({axis}, {idx}, {updates})"
    if reduction in SCATTER_REDUCE:
        return f"{data}.scatter_reduce({axis}, {idx}, {updates}, {lit(SCATTER_REDUCE[reduction])})"
    raise UnsupportedOp(f"reduction {reduction!r}")


@TABLE.op("ScatterND")
def scatter_nd(ctx: Ctx) -> str:
    reduction = _attr_str(ctx, "reduction", "none")
    data, updates = ctx.x(0), ctx.x(2)
    if reduction in ("none", "add"):
        index = _index_tuple(ctx, 1)
        if not index.endswith(".unbind(-1)"):
            index = f"({index},)" if index.count("...") == 1 else f"({index})"
        accumulate = {"accumulate": True} if reduction == "add" else {}
        return call(f"{data}.index_put", index, updates, **accumulate)
    if reduction in SCATTER_REDUCE:
        return call(ctx.helper("scatter_nd"), data, ctx.x(1), updates, reduce=reduction)
    raise UnsupportedOp(f"reduction {reduction!r}")


@TABLE.op("TensorScatter")
def tensor_scatter(ctx: Ctx) -> str:
    mode = _attr_str(ctx, "mode", "linear")
    if mode not in ("linear", "circular"):
        raise UnsupportedOp(f"mode {mode!r}")
    args = [ctx.x(0), ctx.x(1)]
    if ctx.has(2):
        args.append(ctx.x(2))
    kwargs: dict = {}
    axis = int(ctx.attr("axis", -2))
    if axis != -2:
        kwargs["axis"] = axis
    if mode == "circular":
        kwargs["circular"] = True
    if not ctx.has(2) and kwargs:
        args.append("None")
    return call(ctx.helper("tensor_scatter"), *args, **kwargs)


@TABLE.op("Compress")
def compress(ctx: Ctx) -> str:
    x, cond = ctx.x(0), ctx.x(1)
    axis = ctx.attr("axis")
    cond_len = ctx.shape(1)[0] if ctx.shape(1) else None
    if axis is None:
        shape = ctx.shape(0)
        size = None
        if shape is not None and all(isinstance(d, int) for d in shape):
            size = 1
            for d in shape:
                size *= d  # type: ignore[operator]
        if isinstance(cond_len, int) and cond_len == size:
            return f"{x}.flatten()[{cond}]"
        return f"{x}.flatten()[{cond}.nonzero().flatten()]"
    axis = norm_axis(int(axis), ctx.need_rank(0))
    dim = ctx.shape(0)[axis]  # type: ignore[index]
    if isinstance(cond_len, int) and cond_len == dim:
        return f"{x}[{', '.join([':'] * axis + [cond])}]"
    # the condition may be shorter than the axis: select the positions where it holds
    return f"{x}.index_select({axis}, {cond}.nonzero().flatten())"


@TABLE.op("NonZero")
def nonzero(ctx: Ctx) -> str:
    if ctx.rank(0) == 0:
        raise UnsupportedOp("NonZero of a scalar")
    return f"{ctx.x(0)}.nonzero().T"


@TABLE.op("OneHot")
def one_hot(ctx: Ctx) -> str:
    depth = ctx.const(1)
    depth_code = lit(int(depth.reshape(-1)[0])) if depth is not None else f"int({ctx.x(1)})"
    axis = int(ctx.attr("axis", -1))
    kwargs = {"axis": axis} if axis != -1 else {}
    return call(ctx.helper("one_hot"), ctx.x(0), depth_code, ctx.x(2), **kwargs)
