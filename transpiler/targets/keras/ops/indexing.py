"""Shapes and indexing: Shape, Size, ConstantOfShape, Range, EyeLike, Trilu, TopK, OneHot,
GatherElements, GatherND, ScatterElements, ScatterND, Einsum, Dropout (inference)."""

from __future__ import annotations

import numpy as np

from ..context import FLOATS, Ctx, Unpack, lit
from . import TABLE
from ._util import axis_of, const_ints


def _const_output(ctx: Ctx, arr: np.ndarray) -> str:
    """A result computed here: a tensor built from the literal (attached to the graph by ops)."""
    return f"ops.convert_to_tensor({ctx.constant(arr, 'const')})"


@TABLE.op("Shape")
def shape(ctx: Ctx) -> str:
    s = ctx.static_shape(0)
    start, end = ctx.attr("start", 0), ctx.attr("end", None)
    arr = np.array(s[slice(start, end)], dtype=np.int64)
    return _const_output(ctx, arr)


@TABLE.op("Size")
def size(ctx: Ctx) -> str:
    return _const_output(ctx, np.array(int(np.prod(ctx.static_shape(0))), dtype=np.int64))


@TABLE.op("ConstantOfShape")
def constant_of_shape(ctx: Ctx) -> str:
    dims = tuple(const_ints(ctx, 0, "shape"))
    value = ctx.attr("value")
    arr = np.zeros(1, dtype=np.float32) if value is None else np.asarray(value).reshape(-1)
    return f"ops.full({lit(dims)}, {lit(arr[0].item())}, dtype={lit(arr.dtype.name)})"


@TABLE.op("Range")
def range_(ctx: Ctx) -> str:
    start, limit, delta = (ctx.need_const(i, n) for i, n in ((0, "start"), (1, "limit"), (2, "delta")))
    n = max(int(np.ceil((limit.item() - start.item()) / delta.item())), 0)
    arr = (start + np.arange(n, dtype=start.dtype) * delta).astype(start.dtype)
    return _const_output(ctx, arr)


@TABLE.op("EyeLike")
def eye_like(ctx: Ctx) -> str:
    n, m = ctx.static_shape(0)
    dtype = ctx.dtype(ctx.attr("dtype", ctx.elem(0)))
    return f"ops.eye({n}, {m}, k={int(ctx.attr('k', 0))}, dtype={lit(dtype)})"


@TABLE.op("Trilu")
def trilu(ctx: Ctx) -> str:
    k = int(ctx.need_const(1, "k").reshape(())) if ctx.has(1) else 0
    fn = "ops.triu" if ctx.attr("upper", 1) else "ops.tril"
    return f"{fn}({ctx.x(0)}, k={k})"


@TABLE.op("TopK")
def topk(ctx: Ctx) -> Unpack:
    rank = ctx.need_rank(0)
    axis = axis_of(ctx, ctx.attr("axis", -1), rank)
    k = int(ctx.need_const(1, "K").reshape(-1)[0])
    if not ctx.attr("sorted", 1):
        raise ctx.refuse("sorted=0")
    x = ctx.x(0)
    if axis != rank - 1:
        x = f"ops.moveaxis({x}, {axis}, -1)"
    if not ctx.attr("largest", 1):
        if ctx.elem(0) not in FLOATS:
            raise ctx.refuse("smallest-k of integers")
        x = f"ops.negative({x})"
    v, i = ctx.tmp("values"), ctx.tmp("indices")
    ctx.stmt(f"{v}, {i} = ops.top_k({x}, {k})")
    if not ctx.attr("largest", 1):
        v = f"ops.negative({v})"
    i = f"ops.cast({i}, 'int64')"
    if axis != rank - 1:
        v, i = f"ops.moveaxis({v}, -1, {axis})", f"ops.moveaxis({i}, -1, {axis})"
    return Unpack(f"{v}, {i}", 2)


@TABLE.op("OneHot")
def one_hot(ctx: Ctx) -> str:
    depth = int(ctx.need_const(1, "depth").reshape(-1)[0])
    values = ctx.need_const(2, "values")
    out_rank = len(ctx.out_shape(0) or ())
    axis = axis_of(ctx, ctx.attr("axis", -1), out_rank)
    idx = ctx.x(0)
    if ctx.elem(0) in FLOATS:
        idx = f"ops.cast({idx}, 'int64')"
    idx = f"ops.where(ops.less({idx}, 0), {idx} + {depth}, {idx})"
    dtype = ctx.dtype(ctx.elem(2))
    hot = f"ops.one_hot({idx}, {depth}, axis={axis}, dtype={lit(dtype)})"
    off, on = values.reshape(-1)[0].item(), values.reshape(-1)[1].item()
    return f"ops.where(ops.cast({hot}, 'bool'), ops.cast({lit(on)}, {lit(dtype)}), ops.cast({lit(off)}, {lit(dtype)}))"


@TABLE.op("GatherElements")
def gather_elements(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = axis_of(ctx, ctx.attr("axis", 0), rank)
    dim = ctx.static_shape(0)[axis]
    idx = ctx.x(1)
    return f"ops.take_along_axis({ctx.x(0)}, ops.where(ops.less({idx}, 0), {idx} + {dim}, {idx}), axis={axis})"


@TABLE.op("Einsum")
def einsum(ctx: Ctx) -> str:
    eq = ctx.attr("equation")
    if isinstance(eq, bytes):
        eq = eq.decode()
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("integer Einsum")
    eq = eq.replace(" ", "")
    xs = ", ".join(ctx.x(i) for i in range(ctx.n_in))
    return f"ops.einsum({lit(eq)}, {xs})"


@TABLE.op("Dropout")
def dropout(ctx: Ctx) -> list[str]:
    if ctx.has(2):
        mode = ctx.const(2)
        if mode is None or bool(mode.reshape(())):
            raise ctx.refuse("Dropout in training mode (random)")
    perm = ctx.perm(0)
    ctx.set_perm(0, perm)
    x = ctx.x(0, perm)
    outs = [x]
    if ctx.n_out > 1 and ctx.has_out(1):
        outs.append(f"ops.ones_like({x}, dtype='bool')")
        ctx.set_perm(1, perm)
    return outs


@TABLE.op("LRN")
def lrn(ctx: Ctx) -> str:
    from ..layout import channels_last

    rank = ctx.need_rank(0)
    size = int(ctx.attr("size"))
    alpha, beta, bias = ctx.attr("alpha", 1e-4), ctx.attr("beta", 0.75), ctx.attr("bias", 1.0)
    cl = channels_last(rank)
    x = ctx.x(0, cl)
    ctx.set_perm(0, cl)
    lo, hi = (size - 1) // 2, size // 2
    sq = ctx.assign("sq", f"ops.pad(ops.square({x}), {lit([(0, 0)] * (rank - 1) + [(lo, hi)])})")
    c = ctx.static_shape(0)[1]
    total = " + ".join(f"{sq}[..., {k}:{k + c}]" for k in range(size))
    return f"{x} / ops.power({lit(float(bias))} + {lit(float(alpha) / size)} * ({total}), {lit(float(beta))})"


@TABLE.op("LpNormalization")
def lp_norm(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = axis_of(ctx, ctx.attr("axis", -1), rank)
    p = ctx.attr("p", 2)
    x = ctx.x(0)
    if p == 1:
        return f"{x} / ops.sum(ops.abs({x}), axis={axis}, keepdims=True)"
    if p == 2:
        return f"{x} / ops.sqrt(ops.sum(ops.square({x}), axis={axis}, keepdims=True))"
    raise ctx.refuse(f"p={p}")


@TABLE.op("CumProd")
def cumprod(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = axis_of(ctx, int(ctx.need_const(1, "axis").reshape(())), rank)
    if ctx.attr("exclusive", 0):
        raise ctx.refuse("exclusive CumProd")
    x = ctx.x(0)
    if ctx.attr("reverse", 0):
        return f"ops.flip(ops.cumprod(ops.flip({x}, axis={axis}), axis={axis}), axis={axis})"
    return f"ops.cumprod({x}, axis={axis})"
