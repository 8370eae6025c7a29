"""Reductions (`ops.sum`, `ops.mean`, ...), ArgMax/ArgMin, CumSum/CumProd. With keepdims the
layout is kept and the axes remapped, without it the ONNX layout is used.

Axes given at run time: the generated model has static shapes, so the axes are read off the
input and output shapes where these pin them down; where several axis sets fit the shapes, each
one is computed and the runtime axes select among them (`ops.where`)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ..context import FLOATS, Ctx, lit
from . import TABLE
from ._util import axis_of, const_ints

MAX_CANDIDATES = 8  # axis sets computed side by side when runtime axes are ambiguous


@dataclass(frozen=True)
class Reduction:
    """f(x) elementwise, then `fn` over the axes, then g(result); `empty` is the result over an
    empty set where the reduction itself has none (per element kind: float, int, bool)."""

    fn: str
    pre: str | None = None
    post: str | None = None
    floats_only: bool = False
    empty: str | None = None  # "low": -inf / the type's minimum, "high": +inf / its maximum


REDUCTIONS = {
    "ReduceSum": Reduction("ops.sum"),
    "ReduceMean": Reduction("ops.mean", floats_only=True),
    "ReduceMax": Reduction("ops.max", empty="low"),
    "ReduceMin": Reduction("ops.min", empty="high"),
    "ReduceProd": Reduction("ops.prod"),
    "ReduceL1": Reduction("ops.sum", pre="ops.abs"),
    "ReduceL2": Reduction("ops.sum", pre="ops.square", post="ops.sqrt", floats_only=True),
    "ReduceLogSum": Reduction("ops.sum", post="ops.log", floats_only=True),
    "ReduceLogSumExp": Reduction("ops.logsumexp", floats_only=True, empty="low"),
    "ReduceSumSquare": Reduction("ops.sum", pre="ops.square"),
}


def _axis_arg(axes: tuple[int, ...]) -> str:
    return lit(axes if len(axes) > 1 else axes[0])


def _apply(ctx: Ctx, red: Reduction, x: str, axes: tuple[int, ...], keep: bool, shape: tuple | None) -> str:
    """`red` over Keras axes `axes` of `x` (non-empty); `shape` is x's shape in that layout."""
    kd = ", keepdims=True" if keep else ""
    if red.empty and shape is not None and any(shape[a] == 0 for a in axes):
        # nothing to reduce: every element is the reduction's identity (-inf for max, ...)
        shaped = f"ops.any({x}, axis={_axis_arg(axes)}{kd})"
        return f"ops.full_like({shaped}, {_empty_value(ctx, red.empty)}, dtype={lit(ctx.dtype(ctx.elem(0)))})"
    y = f"{red.pre}({x})" if red.pre else x
    dtype = ctx.dtype(ctx.elem(0))
    if red.fn == "ops.prod" and dtype != "float32":
        # keras widens products of small ints and its torch backend narrows 64-bit ones,
        # unless the dtype is given
        kd += f", dtype={lit(dtype)}"
    y = f"{red.fn}({y}, axis={_axis_arg(axes)}{kd})"
    if red.fn == "ops.sum" and ctx.elem(0) not in FLOATS and dtype not in ("int64", "uint64"):
        y = f"ops.cast({y}, {lit(dtype)})"  # keras sums small ints in a wider type; ONNX keeps it
    return f"{red.post}({y})" if red.post else y


def _empty_value(ctx: Ctx, which: str) -> str:
    if ctx.elem(0) in FLOATS:
        return lit(float("-inf" if which == "low" else "inf"))
    dtype = np.dtype(ctx.dtype(ctx.elem(0)))
    if dtype.kind == "b":
        return lit(which == "high")
    info = np.iinfo(dtype)
    return lit(int(info.min if which == "low" else info.max))


def _named(ctx: Ctx, code: str, hint: str) -> str:
    """`code` itself when it is a name, else a fresh name assigned to it (for repeated use)."""
    return code if code.isidentifier() else ctx.assign(hint, code)


def _runtime_axes_count(ctx: Ctx) -> int:
    shape = ctx.shape(1)
    if shape is None or len(shape) != 1 or not isinstance(shape[0], int):
        raise ctx.refuse("the axes are given at run time and their number is unknown")
    return shape[0]


def _keepdims_axes(ctx: Ctx, rank: int) -> tuple[int, ...]:
    """Runtime axes with keepdims: every axis whose output dim is 1. The axes really reduced are
    those plus or minus some of size 1 in the input, and reducing a size-1 axis changes nothing
    once the elementwise transform (applied as the axes are non-empty) is done."""
    src, out = ctx.static_shape(0), ctx.out_static(0)
    if len(out) != rank or any(o not in (1, s) for s, o in zip(src, out)):
        raise ctx.refuse("the output shape does not fit a reduction of the input")
    axes = tuple(a for a in range(rank) if out[a] == 1)
    if not axes:
        raise ctx.refuse("the output shape does not fit a reduction of the input")
    return axes


def _candidates(ctx: Ctx, rank: int, k: int) -> list[tuple[int, ...]]:
    """Runtime axes without keepdims: the k-axis sets whose removal turns the input shape into
    the output shape, one per distinct result (sets that differ only in size-1 axes agree)."""
    src, out = ctx.static_shape(0), ctx.out_static(0)
    found: dict[tuple[int, ...], tuple[int, ...]] = {}
    for axes in combinations(range(rank), k):
        if tuple(d for a, d in enumerate(src) if a not in axes) == out:
            found.setdefault(tuple(a for a in axes if src[a] != 1), axes)
    if not found:
        raise ctx.refuse("the output shape does not fit a reduction of the input")
    if len(found) > MAX_CANDIDATES:
        raise ctx.refuse(f"the runtime axes fit {len(found)} reductions of the input")
    return list(found.values())


def _nonnegative(ctx: Ctx, i: int, rank: int) -> str:
    """Code for runtime axes (input i) with negative ones counted from the end."""
    given = ctx.x(i)
    return f"ops.where(ops.less({given}, 0), {given} + {rank}, {given})"


@TABLE.op(*REDUCTIONS)
def reduce(ctx: Ctx) -> str:
    op = ctx.node.op_type
    red = REDUCTIONS[op]
    rank = ctx.need_rank(0)
    keep = bool(ctx.attr("keepdims", 1))
    if red.floats_only and ctx.elem(0) not in FLOATS:
        raise ctx.refuse(f"{op} of integers")
    if not ctx.has(1):
        axes: tuple[int, ...] = ()
    elif ctx.const(1) is not None:
        axes = tuple(sorted({axis_of(ctx, a, rank) for a in const_ints(ctx, 1, "axes")}))
    elif _runtime_axes_count(ctx) == 0:
        axes = ()
    elif keep:
        axes = _keepdims_axes(ctx, rank)
    else:
        return _select(ctx, red, rank, _runtime_axes_count(ctx))
    if not axes:
        if ctx.attr("noop_with_empty_axes", 0):
            perm = ctx.perm(0)
            ctx.set_perm(0, perm)
            return ctx.x(0, perm)
        axes = tuple(range(rank))
    perm = ctx.perm(0) if keep else None
    ctx.set_perm(0, perm)
    shape = ctx.shape(0)
    if perm is not None:
        axes = tuple(sorted(perm.index(a) for a in axes))
        shape = None if shape is None else tuple(shape[p] for p in perm)
    return _apply(ctx, red, ctx.x(0, perm), axes, keep, shape)


def _select(ctx: Ctx, red: Reduction, rank: int, k: int) -> str:
    """Runtime axes without keepdims: each fitting axis set computed, the runtime one chosen."""
    shape = ctx.static_shape(0)
    options = _candidates(ctx, rank, k)
    if len(options) == 1:
        return _apply(ctx, red, ctx.x(0), options[0], False, shape)
    x = _named(ctx, ctx.x(0), "x")
    given = ctx.assign("axes", f"ops.sort({_nonnegative(ctx, 1, rank)})")
    y = _apply(ctx, red, x, options[-1], False, shape)
    for axes in reversed(options[:-1]):
        y = f"ops.where(ops.all(ops.equal({given}, {lit(list(axes))})), {_apply(ctx, red, x, axes, False, shape)}, {y})"
    return y


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


# op -> (keras.ops scan, its combining function, identity element that starts an exclusive scan)
SCANS = {"CumSum": ("ops.cumsum", "ops.add", 0), "CumProd": ("ops.cumprod", "ops.multiply", 1)}


@TABLE.op(*SCANS)
def cumulative(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    if rank == 0:
        raise ctx.refuse(f"{ctx.node.op_type} of a scalar")
    if ctx.const(1) is not None:
        return _scan(ctx, axis_of(ctx, int(ctx.const(1).reshape(())), rank))
    if rank == 1:
        return _scan(ctx, 0)  # the only valid axis
    # the axis is given at run time: the output shape does not depend on it, so scan along
    # every axis and pick the runtime one
    x = _named(ctx, ctx.x(0), "x")
    axis = ctx.assign("axis", f"ops.reshape({_nonnegative(ctx, 1, rank)}, ())")
    y = _scan(ctx, rank - 1, x)
    for a in reversed(range(rank - 1)):
        y = f"ops.where(ops.equal({axis}, {a}), {_scan(ctx, a, x)}, {y})"
    return y


def _scan(ctx: Ctx, axis: int, x: str | None = None) -> str:
    fn, combine, start = SCANS[ctx.node.op_type]
    x = ctx.x(0) if x is None else x
    rev = ctx.attr("reverse", 0)
    if rev:
        x = f"ops.flip({x}, axis={axis})"
    if ctx.attr("exclusive", 0):
        # the scan of the input shifted by one (identity element first) excludes each element
        x = _shifted(ctx, x, axis, 1, start)
    if ctx.dtype(ctx.elem(0)) in ("float64", "int64", "uint64"):
        # keras' torch backend runs ops.cumsum / ops.cumprod of 64-bit types in 32 bits: scan
        # by doubling steps instead (step d combines each element with the one d before it)
        n = ctx.static_shape(0)[axis]
        x = _named(ctx, x, "scan")
        d = 1
        while d < n:
            x = ctx.assign("scan", f"{combine}({x}, {_shifted(ctx, x, axis, d, start)})")
            d *= 2
        y = x
    else:
        y = f"{fn}({x}, axis={axis})"
    return f"ops.flip({y}, axis={axis})" if rev else y


def _shifted(ctx: Ctx, x: str, axis: int, d: int, fill: int) -> str:
    """Code: x moved d places along `axis`, the first d places `fill`."""
    shape = ctx.static_shape(0)
    pad = [[0, 0]] * len(shape)
    pad[axis] = [d, 0]
    padded = f"ops.pad({x}, {lit(pad)}, constant_values={lit(fill)})"
    return f"ops.slice({padded}, {lit([0] * len(shape))}, {lit(list(shape))})"
