"""QuantizeLinear / DequantizeLinear per tensor, per axis or per block, as ONNX's reference computes
them: integers (8 / 16 bits, and 4 / 2 bits held in int8 / uint8) round half to even and saturate;
float8 / float4 (held in float32) round like Cast (ops/cast.py)."""

from __future__ import annotations

from .... import ir
from ..context import Ctx, lit
from . import TABLE
from ._util import axis_of
from .cast import FLOAT8, SMALL_FLOATS, to_small_float
from .elementwise import divide_rounded

RANGES = {
    ir.UINT8: (0, 255), ir.INT8: (-128, 127), ir.UINT16: (0, 65535), ir.INT16: (-32768, 32767),
    ir.UINT4: (0, 15), ir.INT4: (-8, 7), ir.UINT2: (0, 3), ir.INT2: (-2, 1),
}


def _per_axis(ctx: Ctx, i: int, code: str) -> str:
    """Scale / zero point input i broadcast along the quantisation axis (or its blocks)."""
    rank = ctx.need_rank(0)
    r = ctx.rank(i)
    shape_i = ctx.shape(i)
    if r in (None, 0) or rank == 0:
        return code
    if r == 1 and shape_i is not None and shape_i[0] == 1:
        return f"ops.reshape({code}, ())"  # one value: applies to the whole tensor
    axis = axis_of(ctx, ctx.attr("axis", 1), rank)
    block = ctx.attr("block_size", 0)
    if block:
        if r != rank:
            raise ctx.refuse("blocked quantisation needs a scale of the input's rank")
        dim = ctx.static_shape(0)[axis]
        code = f"ops.repeat({code}, {int(block)}, axis={axis})"
        n = ctx.static_shape(i)[axis] * int(block)
        if n != dim:  # the last block is partial
            index = ", ".join([":"] * axis + [f":{dim}"])
            code = f"{code}[{index}]"
        return code
    shape = [1] * rank
    shape[axis] = -1
    return f"ops.reshape({code}, {lit(tuple(shape))})"


@TABLE.op("DequantizeLinear")
def dequantize(ctx: Ctx) -> str:
    elem = ctx.elem(0)
    if elem not in RANGES and elem != ir.INT32 and elem not in SMALL_FLOATS:
        raise ctx.refuse(f"element type {elem}")
    out = ctx.dtype(ctx.out_elem(0))
    x = f"ops.cast({ctx.x(0)}, 'float32')"
    if ctx.has(2) and elem not in SMALL_FLOATS:  # ONNX's reference ignores a float zero point (0)
        x = f"ops.subtract({x}, ops.cast({_per_axis(ctx, 2, ctx.x(2))}, 'float32'))"
    y = f"ops.multiply({x}, ops.cast({_per_axis(ctx, 1, ctx.x(1))}, 'float32'))"
    return y if out == "float32" else f"ops.cast({y}, {lit(out)})"


def _quotient_type(ctx: Ctx) -> int:
    """The element type numpy (ONNX's reference) divides x by its scale in."""
    kinds = {ctx.elem(0), ctx.elem(1)}
    if ir.DOUBLE in kinds:
        return ir.DOUBLE
    if len(kinds) == 1 and kinds <= {ir.FLOAT16, ir.BFLOAT16}:
        return kinds.pop()
    return ir.FLOAT


@TABLE.op("QuantizeLinear")
def quantize(ctx: Ctx) -> str:
    elem = ctx.out_elem(0)
    if elem not in RANGES and elem not in SMALL_FLOATS:
        raise ctx.refuse(f"quantising to element type {elem}")
    if ctx.attr("precision", 0) not in (0, ir.FLOAT):
        raise ctx.refuse("QuantizeLinear with a precision other than float32")
    qt = _quotient_type(ctx)
    dt = lit(ctx.dtype(qt))
    scale = _per_axis(ctx, 1, ctx.x(1))
    if qt == ir.DOUBLE:
        q = f"ops.divide(ops.cast({ctx.x(0)}, {dt}), ops.cast({scale}, {dt}))"
    else:
        q = divide_rounded(ctx.x(0), scale, ctx.dtype(qt))  # exact on the jax backend too
    q = ctx.assign("scaled", q)
    if elem in SMALL_FLOATS:
        if ctx.has(2) and elem == ir.FLOAT4E2M1:
            q = ctx.assign("scaled", f"ops.add({q}, ops.cast({_per_axis(ctx, 2, ctx.x(2))}, {dt}))")
        # a float8 zero point is 0 (ONNX's reference does not add it)
        return to_small_float(ctx, q, qt, elem, bool(ctx.attr("saturate", 1)) and elem in FLOAT8)
    lo, hi = RANGES[elem]
    # rounded half to even, then the zero point added as integers (exact)
    q = f"ops.cast(ops.round({q}), 'int32')"
    if ctx.has(2):
        q = f"ops.add({q}, ops.cast({_per_axis(ctx, 2, ctx.x(2))}, 'int32'))"
    return f"ops.cast(ops.clip({q}, {lo}, {hi}), {lit(ctx.dtype(elem))})"
