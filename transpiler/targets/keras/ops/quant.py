"""QuantizeLinear / DequantizeLinear for 8- and 16-bit integers, per tensor or per axis, as
their formula (round half to even, saturate)."""

from __future__ import annotations

from .... import ir
from ..context import Ctx, lit
from . import TABLE
from ._util import axis_of

RANGES = {ir.UINT8: (0, 255), ir.INT8: (-128, 127), ir.UINT16: (0, 65535), ir.INT16: (-32768, 32767)}


def _per_axis(ctx: Ctx, i: int, code: str) -> str:
    """Scale / zero point input i broadcast along the quantisation axis."""
    rank = ctx.need_rank(0)
    r = ctx.rank(i)
    if r in (None, 0) or rank == 0:
        return code
    if ctx.attr("block_size", 0):
        raise ctx.refuse("blocked quantisation")
    axis = axis_of(ctx, ctx.attr("axis", 1), rank)
    shape = [1] * rank
    shape[axis] = -1
    return f"ops.reshape({code}, {lit(tuple(shape))})"


@TABLE.op("DequantizeLinear")
def dequantize(ctx: Ctx) -> str:
    if ctx.elem(0) not in RANGES and ctx.elem(0) != ir.INT32:
        raise ctx.refuse(f"element type {ctx.elem(0)}")
    out = ctx.dtype(ctx.out_elem(0))
    x = f"ops.cast({ctx.x(0)}, 'float32')"
    if ctx.has(2):
        x = f"ops.subtract({x}, ops.cast({_per_axis(ctx, 2, ctx.x(2))}, 'float32'))"
    y = f"ops.multiply({x}, ops.cast({_per_axis(ctx, 1, ctx.x(1))}, 'float32'))"
    return y if out == "float32" else f"ops.cast({y}, {lit(out)})"


@TABLE.op("QuantizeLinear")
def quantize(ctx: Ctx) -> str:
    elem = ctx.out_elem(0)
    if elem not in RANGES:
        raise ctx.refuse(f"quantising to element type {elem}")
    lo, hi = RANGES[elem]
    x = f"ops.cast({ctx.x(0)}, 'float32')"
    q = f"ops.round(ops.divide({x}, ops.cast({_per_axis(ctx, 1, ctx.x(1))}, 'float32')))"
    if ctx.has(2):
        q = f"ops.add({q}, ops.cast({_per_axis(ctx, 2, ctx.x(2))}, 'float32'))"
    return f"ops.cast(ops.clip({q}, {lo}, {hi}), {lit(ctx.dtype(elem))})"
