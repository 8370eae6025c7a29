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


def operand_shape(ctx: Ctx, i: int, perm: Perm) -> tuple | None:
    """The static shape of `operand(ctx, i, perm)`."""
    s = ctx.shape(i)
    if s is None or perm is None:
        return s
    s = (1,) * (len(perm) - len(s)) + tuple(s)
    return tuple(s[p] for p in perm)


def _bias_add_misfires(x1: tuple, x2: tuple) -> bool:
    """Whether Keras's TensorFlow `ops.add(x1, x2)` takes its `tf.nn.bias_add` shortcut (x2
    squeezes to one dim equal to x1's second or last dim) where that differs from broadcasting:
    it adds along x1's last axis whenever that dim matches, so a (1, C, 1) addend of a (N, C, C)
    tensor lands on the wrong axis (keras 3.15.1)."""
    rest = [(k, d) for k, d in enumerate(x2) if not isinstance(d, int) or d > 1]
    if len(rest) != 1 or len(x1) < 2 or not isinstance(rest[0][1], int) or rest[0][1] not in (x1[1], x1[-1]):
        return False
    axis = len(x1) - 1 if x1[-1] == rest[0][1] else 1
    return len(x2) > len(x1) or rest[0][0] + len(x1) - len(x2) != axis


def add_code(a: str, b: str, sa: tuple | None, sb: tuple | None, out: tuple | None) -> str:
    """`ops.add(a, b)`, arranged so that no backend misreads b as a bias (see _bias_add_misfires)."""
    if sa is None or sb is None or not _bias_add_misfires(sa, sb):
        return f"ops.add({a}, {b})"
    if not _bias_add_misfires(sb, sa):
        return f"ops.add({b}, {a})"  # IEEE addition commutes exactly
    return f"ops.add({a}, ops.broadcast_to({b}, {tuple(out)!r}))"
