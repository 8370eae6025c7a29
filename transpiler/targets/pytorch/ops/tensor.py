"""Shape and data movement: reshape, transpose, concat, slice, split, gather, expand, reductions."""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..context import Code, Ctx, Unpack, call, lit
from . import TABLE
from ._util import int_list, norm_axis

INT64_MAX = np.iinfo(np.int64).max


def _dim_code(ctx: Ctx, i: int, d: int) -> str:
    """Code for dimension d of input i: a literal when static, else `x.shape[d]`."""
    shape = ctx.shape(i)
    if shape is not None and d < len(shape) and isinstance(shape[d], int):
        return lit(shape[d])
    return f"{ctx.x(i)}.shape[{d}]"


@TABLE.op("Reshape")
def reshape(ctx: Ctx) -> str:
    shape = ctx.const(1)
    if shape is None:
        if ctx.attr("allowzero", 0):
            return f"{ctx.x(0)}.reshape({ctx.x(1)}.tolist())"
        return call(ctx.helper("onnx_reshape"), ctx.x(0), ctx.x(1))
    dims = int_list(shape) or []
    out_static = ctx.out_shape(0)
    if out_static is not None and all(isinstance(d, int) for d in out_static) and ctx.shape(0) is not None and all(
        isinstance(d, int) for d in ctx.shape(0)  # type: ignore[union-attr]
    ):
        parts = [lit(int(d)) for d in out_static]
        if len(dims) == len(parts) and -1 in dims:
            parts[dims.index(-1)] = "-1"
    else:
        parts = []
        for k, d in enumerate(dims):
            if d == 0 and not ctx.attr("allowzero", 0):
                parts.append(_dim_code(ctx, 0, k))
            else:
                parts.append(lit(d))
    if len(parts) == 1:
        return f"{ctx.x(0)}.reshape({parts[0]})" if parts[0] != "-1" else f"{ctx.x(0)}.flatten()"
    return f"{ctx.x(0)}.reshape({', '.join(parts)})" if parts else f"{ctx.x(0)}.reshape(())"


@TABLE.op("Flatten")
def flatten(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = norm_axis(ctx.attr("axis", 1), rank + 1)
    x = ctx.x(0)
    if axis == 0:
        return f"{x}.reshape(1, -1)"
    if axis == rank:
        return f"{x}.reshape(-1, 1)"
    if axis == 1:
        return f"{x}.flatten(1)" if rank > 2 else (x if rank == 2 else f"{x}.flatten(1)")
    return f"{x}.flatten({axis}).flatten(0, {axis - 1})"


@TABLE.op("Transpose")
def transpose(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    perm = ctx.attr("perm") or list(range(rank))[::-1]
    if list(perm) == list(range(rank)):
        return ctx.x(0)
    return f"{ctx.x(0)}.permute({', '.join(str(p) for p in perm)})"


@TABLE.op("Concat")
def concat(ctx: Ctx) -> str:
    xs = [ctx.x(i) for i in range(ctx.n_in) if ctx.has(i)]
    axis = ctx.attr("axis")
    return call("torch.cat", f"[{', '.join(xs)}]", dim=axis) if axis else f"torch.cat([{', '.join(xs)}])"


@TABLE.op("Slice")
def slice_(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    starts, ends = ctx.const(1), ctx.const(2)
    axes = ctx.const(3) if ctx.has(3) else None
    steps = ctx.const(4) if ctx.has(4) else None
    if starts is None or ends is None or (ctx.has(3) and axes is None) or (ctx.has(4) and steps is None):
        raise UnsupportedOp("starts, ends, axes and steps must be constants")
    n = starts.size
    axes_l = [norm_axis(a, rank) for a in int_list(axes)] if axes is not None else list(range(n))
    steps_l = int_list(steps) if steps is not None else [1] * n
    index = [":"] * rank
    flips = []
    shape = ctx.shape(0)
    for a, s, e, st in zip(axes_l, int_list(starts), int_list(ends), steps_l):
        if st == 0:
            raise UnsupportedOp("slice step 0")
        if st < 0:
            dim = shape[a] if shape is not None else None
            if not isinstance(dim, int):
                raise UnsupportedOp("a negative slice step needs a static dimension")
            # clamp as ONNX does, then express as a forward slice of the flipped axis
            s = dim + s if s < 0 else s
            e = dim + e if e < 0 else e
            s = min(max(s, 0), dim - 1)
            e = min(max(e, -1), dim - 1)
            flips.append(a)
            fs, fe = dim - 1 - s, dim - 1 - e
            index[a] = f"{fs}:{fe if fe < dim else ''}" + (f":{-st}" if st != -1 else "")
            continue
        start = "" if s == 0 else str(s)
        stop = "" if e >= INT64_MAX // 2 or (e > 0 and shape is not None and isinstance(shape[a], int) and e >= shape[a]) else str(e)
        if e <= -(INT64_MAX // 2):
            stop = "0"
        index[a] = f"{start}:{stop}" + (f":{st}" if st != 1 else "")
    x = ctx.x(0)
    if flips:
        x = f"{x}.flip({', '.join(str(a) for a in flips)})"
    while index and index[-1] == ":":
        index.pop()
    if not index:
        return x
    return f"{x}[{', '.join(index)}]"


@TABLE.op("Split")
def split(ctx: Ctx) -> str | Unpack:
    rank = ctx.need_rank(0)
    axis = norm_axis(ctx.attr("axis", 0), rank)
    n = ctx.n_out
    sizes = ctx.const(1) if ctx.has(1) else None
    if ctx.has(1) and sizes is None:
        raise UnsupportedOp("split sizes must be a constant")
    if sizes is not None:
        sections = int_list(sizes)
    else:
        shape = ctx.shape(0)
        dim = shape[axis] if shape is not None else None
        if not isinstance(dim, int):
            return Unpack(call("torch.chunk", ctx.x(0), lit(n), dim=axis), n)
        chunk = -(-dim // (ctx.attr("num_outputs") or n))
        sections = [min(chunk, dim - k * chunk) for k in range(n)]
    kwargs = {"dim": axis} if axis else {}
    return Unpack(call("torch.split", ctx.x(0), lit(sections), **kwargs), n)


@TABLE.op("Squeeze")
def squeeze(ctx: Ctx) -> str:
    if not ctx.has(1):
        return f"{ctx.x(0)}.squeeze()"
    axes = ctx.need_const(1, "axes")
    rank = ctx.need_rank(0)
    dims = sorted(norm_axis(a, rank) for a in int_list(axes))
    return f"{ctx.x(0)}.squeeze({dims[0]})" if len(dims) == 1 else f"{ctx.x(0)}.squeeze({lit(tuple(dims))})"


@TABLE.op("Unsqueeze")
def unsqueeze(ctx: Ctx) -> str:
    axes = ctx.need_const(1, "axes")
    rank = ctx.need_rank(0)
    out_rank = rank + axes.size
    expr = ctx.x(0)
    for a in sorted(norm_axis(a, out_rank) for a in int_list(axes)):
        expr = f"{expr}.unsqueeze({a})"
    return expr


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


@TABLE.op("Expand")
def expand(ctx: Ctx) -> str:
    out = ctx.out_shape(0)
    if out is not None and all(isinstance(d, int) for d in out):
        return f"{ctx.x(0)}.expand({', '.join(str(d) for d in out)})" if out else ctx.x(0)
    return call("torch.broadcast_to", ctx.x(0), f"torch.broadcast_shapes({ctx.x(0)}.shape, tuple({ctx.x(1)}.tolist()))")


@TABLE.op("Shape")
def shape_(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    start, end = ctx.attr("start", 0), ctx.attr("end", rank)
    sl = "" if (start == 0 and end >= rank) else f"[{start or ''}:{end if end < rank else ''}]"
    return f"torch.tensor({ctx.x(0)}.shape{sl}, dtype=torch.int64)"


@TABLE.op("Size")
def size_(ctx: Ctx) -> str:
    return f"torch.tensor({ctx.x(0)}.numel(), dtype=torch.int64)"


@TABLE.op("ConstantOfShape")
def constant_of_shape(ctx: Ctx) -> str:
    value = ctx.attr("value")
    v = np.zeros((1,), np.float32) if value is None else value
    elem = ctx.out_elem(0) or ir.FLOAT
    fill = lit(v.reshape(-1)[0].item())
    shape = ctx.const(0)
    dims = lit(tuple(int_list(shape))) if shape is not None else f"{ctx.x(0)}.tolist()"
    return call("torch.full", dims, fill, dtype=Code(ctx.dtype(elem)))


@TABLE.op("Tile")
def tile(ctx: Ctx) -> str:
    reps = ctx.const(1)
    if reps is None:
        return f"{ctx.x(0)}.repeat({ctx.x(1)}.tolist())"
    return f"{ctx.x(0)}.repeat({', '.join(str(r) for r in int_list(reps))})"


@TABLE.op("Range")
def range_(ctx: Ctx) -> str:
    elem = ctx.out_elem(0)
    args = [ctx.scalar_or_x(i) for i in range(3)]
    args = [a if not (a.startswith("self.") or a.isidentifier()) else f"{a}.item()" for a in args]
    return call("torch.arange", *args, dtype=Code(ctx.dtype(elem)))
