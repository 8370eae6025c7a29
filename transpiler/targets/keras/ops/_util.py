"""Helpers shared by the Keras lowerings: layout joins for elementwise ops, axis handling."""

from __future__ import annotations

import numpy as np

from ..context import Ctx
from ..layout import Perm, to_keras_axis


def axis_of(ctx: Ctx, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise ctx.refuse(f"axis {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def common_perm(ctx: Ctx, idxs: list[int]) -> Perm:
    """The layout an elementwise op over inputs `idxs` computes in: the layout of its tensor
    inputs when they all share it at the output's rank (constants are transposed to match),
    else the ONNX layout."""
    out = ctx.out_shape(0)
    if out is None:
        return None
    rank = len(out)
    perms = set()
    for i in idxs:
        if not ctx.has(i) or ctx.const(i) is not None:
            continue
        p = ctx.perm(i)
        if p is not None and ctx.rank(i) != rank:
            return None
        perms.add(p)
    if len(perms) == 1:
        return perms.pop()
    return None


def operand(ctx: Ctx, i: int, perm: Perm) -> str:
    """Input i in layout `perm`; a constant of lower rank is first given the output's rank."""
    c = ctx.const(i)
    if c is not None:
        s = ctx.scalar(i)
        if s is not None:
            return s
        if perm is not None:
            rank = len(perm)
            c = c.reshape((1,) * (rank - c.ndim) + c.shape).transpose(perm)
        return ctx.constant(c, hint=ctx.value(i).name)
    return ctx.x(i, perm)


def keras_axis(ctx: Ctx, axis: int, rank: int, perm: Perm) -> int:
    return to_keras_axis(axis_of(ctx, axis, rank), perm)


def const_ints(ctx: Ctx, i: int, what: str) -> list[int]:
    return [int(v) for v in np.asarray(ctx.need_const(i, what)).reshape(-1)]


def reshape_target(ctx: Ctx, shape: tuple) -> tuple[int, ...]:
    """A reshape target for Keras: static dims as they are, one unknown dim as -1."""
    dims = [d if isinstance(d, int) else -1 for d in shape]
    if dims.count(-1) > 1:
        raise ctx.refuse("the result has more than one unknown dimension")
    return tuple(dims)
