"""Quantization: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, and the integer ops
QLinearMatMul, QLinearConv, MatMulInteger, ConvInteger.

Quantized values use the carriers of ops/cast.py (int4 in torch.int8, float4e2m1 in torch.float32,
...). The arithmetic follows ONNX's reference implementation step by step where its precision
matters: division in the input's type, rounding half to even (torch.round), adding the zero point
to the rounded value exactly, and requantization in float64. Integer matmuls and convolutions run
in float64, which holds every sum of 8-bit products exactly (PyTorch's integer convolutions lack
dilation and GPU support), and are turned back into int32.
"""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..context import Ctx, Unpack, call, lit
from . import TABLE
from ._util import conv_kwargs, norm_axis, pad_input, spatial_pads
from .cast import FLOAT8_MAX, INT_RANGES, dtype_of, to_float8

# float types whose integers stop being exact early: round first, then widen to add the zero point
NARROW_FLOATS = frozenset({ir.FLOAT16, ir.BFLOAT16})


def _static_size(ctx: Ctx, i: int) -> int | None:
    c = ctx.const(i)
    if c is not None:
        return int(c.size)
    shape = ctx.shape(i)
    if shape is not None and all(isinstance(d, int) for d in shape):
        return int(np.prod(shape, dtype=np.int64))
    return None


def _param(ctx: Ctx, i: int, x_rank: int, axis: int, block: int) -> str:
    """Code for scale / zero point input i shaped to broadcast against x (rank `x_rank`):
    per tensor as it is, per axis as a column along `axis`, blocked repeated `block` times."""
    rank = ctx.rank(i)
    if rank is None:
        raise UnsupportedOp(f"the rank of input {i} (scale / zero point) is unknown")
    if rank == 0 or (rank == 1 and _static_size(ctx, i) == 1 and x_rank > 0):
        return ctx.scalar_or_x(i, x_rank)
    code = ctx.x(i)
    axis = norm_axis(axis, x_rank)  # only per-axis and blocked quantization read the axis
    if block:
        if rank != x_rank:
            raise UnsupportedOp("blocked quantization needs a scale of the input's rank")
        code = f"{code}.repeat_interleave({block}, dim={axis})"
        xs, ss = ctx.shape(0), ctx.shape(i)
        if not (xs and ss and isinstance(xs[axis], int) and isinstance(ss[axis], int) and xs[axis] == ss[axis] * block):
            code = f"{code}.narrow({axis}, 0, {ctx.x(0)}.shape[{axis}])"  # the last block may be short
        return code
    if rank != 1:
        raise UnsupportedOp("a per-axis scale / zero point must be 1-D")
    trailing = x_rank - 1 - axis
    return f"{code}.reshape({', '.join(['-1'] + ['1'] * trailing)})" if trailing else code


def _axis(ctx: Ctx) -> tuple[int, int, int]:
    """(rank of x, axis, block size)."""
    return ctx.need_rank(0), int(ctx.attr("axis", 1)), int(ctx.attr("block_size", 0) or 0)


def _promoted(a: int, b: int) -> int:
    """The type numpy computes a / b in, for the float and int32 types quantization takes."""
    if a == b:
        return ir.DOUBLE if a == ir.INT32 else a
    if ir.DOUBLE in (a, b) or ir.INT32 in (a, b):
        return ir.DOUBLE
    return ir.FLOAT


def _as(code: str, src: int, dst: int) -> str:
    return code if src == dst else f"{code}.to({dtype_of(dst)})"


@TABLE.op("QuantizeLinear")
def quantize_linear(ctx: Ctx) -> str:
    rank, axis, block = _axis(ctx)
    out = ctx.out_elem(0)
    x_elem, s_elem = ctx.elem(0), ctx.elem(1)
    scale = _param(ctx, 1, rank, axis, block)
    # a float8 zero point is 0 (ONNX's reference ignores it)
    zp = _param(ctx, 2, rank, axis, block) if ctx.has(2) and out not in FLOAT8_MAX else None
    # the division runs in `precision`, else in the type numpy gives x / y_scale
    s_as = ir.FLOAT if s_elem == ir.FLOAT8E8M0 else s_elem
    work = int(ctx.attr("precision", 0) or 0) or _promoted(x_elem, s_as)
    x = _as(ctx.x(0), x_elem, work)
    if not _is_literal(scale):
        scale = _as(scale, s_elem, work)
    q = f"{x} / {scale}"
    if out in INT_RANGES:
        lo, hi = INT_RANGES[out]
        r = f"torch.round({q})"
        if work in NARROW_FLOATS:
            r = f"{r}.float()"
        if zp is not None and zp != "0":
            r = f"{r} + {zp}"
        return f"torch.clamp({r}, {lo}, {hi}).to({dtype_of(out)})"
    if out in FLOAT8_MAX:
        return to_float8(f"({q})", out, bool(ctx.attr("saturate", 1)))
    if out == ir.FLOAT4E2M1:
        if zp is not None and zp not in ("0", "0.0"):
            q = f"{q} + {zp}"
        return call(ctx.helper("to_float4e2m1"), q)
    raise UnsupportedOp(f"quantizing to element type {out} is not supported")


def _is_literal(code: str) -> bool:
    try:
        float(code)
    except ValueError:
        return False
    return True


@TABLE.op("DequantizeLinear")
def dequantize_linear(ctx: Ctx) -> str:
    rank, axis, block = _axis(ctx)
    x_elem, s_elem, out = ctx.elem(0), ctx.elem(1), ctx.out_elem(0)
    x = ctx.x(0)
    # x - zero point in float32 (exact for every type up to 16 bits), as the reference does;
    # int32 x in float64, so the subtraction is exact too
    if x_elem == ir.INT32:
        dx, work = f"{x}.double()", ir.DOUBLE
    elif x_elem == ir.FLOAT4E2M1:
        dx, work = x, ir.FLOAT
    else:
        dx, work = f"{x}.float()", ir.FLOAT
    if ctx.has(2) and x_elem not in FLOAT8_MAX and x_elem != ir.FLOAT4E2M1:  # float zero points are 0
        zp = _param(ctx, 2, rank, axis, block)
        if zp != "0":
            dx = f"({dx} - {zp})"
    scale = _param(ctx, 1, rank, axis, block)
    if s_elem == ir.FLOAT8E8M0 and not _is_literal(scale):
        scale = f"{scale}.float()"
    y = f"{dx} * {scale}"
    # the product is float32 (float64 for int32 x) whatever the scale type; then the output type
    return y if out == work else f"({y}).to({dtype_of(out)})"


@TABLE.op("DynamicQuantizeLinear")
def dynamic_quantize_linear(ctx: Ctx) -> Unpack:
    if ctx.elem(0) != ir.FLOAT:
        raise UnsupportedOp("DynamicQuantizeLinear takes float32")
    return Unpack(call(ctx.helper("dynamic_quantize_linear"), ctx.x(0)), 3)


def _centered(ctx: Ctx, i: int, zp: int, per_row: bool = False) -> str:
    """Code for integer input i minus its zero point (input zp), in float64 (an argument, not
    parenthesised)."""
    x = f"{ctx.x(i)}.double()"
    if not ctx.has(zp):
        return x
    z = ctx.scalar_or_x(zp, ctx.rank(i))
    if z == "0":
        return x
    if per_row and ctx.rank(zp) == 1 and _static_size(ctx, zp) != 1:
        z = f"{z}.reshape(-1, 1)"  # one zero point per row of A
    return f"{x} - {z}"


def _int_out(ctx: Ctx) -> tuple[int, int, str]:
    out = ctx.out_elem(0)
    if out not in (ir.UINT8, ir.INT8):
        raise UnsupportedOp(f"quantized output of element type {out} is not supported")
    lo, hi = INT_RANGES[out]
    return lo, hi, dtype_of(out)


def _multiplier(ctx: Ctx, scales: list[int], shape_w: str = "") -> str:
    """a_scale * b_scale / y_scale, computed in the scales' own type like the reference; a literal
    when all three are one-element constants."""
    consts = [ctx.const(i) for i in scales]
    if all(c is not None and c.size == 1 for c in consts):
        a, b, y = (np.asarray(c).reshape(-1)[0] for c in consts)  # type: ignore[union-attr]
        return lit(float(a * b / y))
    a, b, y = (ctx.x(i) for i in scales)
    return f"({a} * {b}{shape_w} / {y})"


def _requantize(ctx: Ctx, acc: str, mult: str, y_zp: int) -> str:
    lo, hi, dtype = _int_out(ctx)
    r = f"{acc} * {mult}"
    if ctx.has(y_zp):
        z = ctx.scalar_or_x(y_zp, ctx.rank(0))
        if z != "0":
            r = f"{r} + {z}"
    return f"torch.clamp(torch.round({r}), {lo}, {hi}).to({dtype})"


@TABLE.op("QLinearMatMul")
def qlinear_matmul(ctx: Ctx) -> str:
    if any(ctx.elem(i) not in (ir.UINT8, ir.INT8) for i in (0, 3)):
        raise UnsupportedOp("QLinearMatMul on float8 inputs is not supported")
    _int_out(ctx)
    if _static_size(ctx, 1) != 1:
        raise UnsupportedOp("QLinearMatMul needs a one-element a_scale")
    acc = ctx.tmp("acc")
    ctx.stmt(f"{acc} = torch.matmul({_centered(ctx, 0, 2, per_row=True)}, {_centered(ctx, 3, 5)})")
    return _requantize(ctx, acc, _multiplier(ctx, [1, 4, 6]), 7)


@TABLE.op("MatMulInteger")
def matmul_integer(ctx: Ctx) -> str:
    return f"torch.matmul({_centered(ctx, 0, 2, per_row=True)}, {_centered(ctx, 1, 3)}).int()"


def _conv_int(ctx: Ctx, x_i: int, xzp_i: int, w_i: int, wzp_i: int, bias: str | None) -> str:
    """F.convNd on the zero-point-centred input and weight in float64 (padding pads the centred
    input with zeros, as ONNX does)."""
    w = ctx.value(w_i)
    if w.shape is None:
        raise UnsupportedOp("the weight's rank is unknown")
    n = len(w.shape) - 2
    if n not in (1, 2, 3):
        raise UnsupportedOp(f"{n}-D convolution has no PyTorch function")
    kernel = ctx.attr("kernel_shape") or list(w.shape[2:])
    if not all(isinstance(k, int) for k in kernel):
        raise UnsupportedOp("the kernel shape must be static")
    strides = ctx.attr("strides") or [1] * n
    dil = ctx.attr("dilations") or [1] * n
    group = ctx.attr("group", 1)
    pads = spatial_pads(ctx, kernel, strides, dil)
    x, padding = pad_input(ctx, _centered(ctx, x_i, xzp_i), pads)
    wc = f"{ctx.x(w_i)}.double()"
    if ctx.has(wzp_i):
        z = ctx.scalar_or_x(wzp_i, n + 2)
        if z != "0":
            if ctx.rank(wzp_i) == 1 and _static_size(ctx, wzp_i) != 1:
                z = f"{z}.reshape({', '.join(['-1'] + ['1'] * (n + 1))})"  # per output channel
            wc = f"{wc} - {z}"
    kwargs = conv_kwargs(strides, padding, dil, group)
    args = [x, wc] + ([bias] if bias else [])
    return call(f"F.conv{n}d", *args, **kwargs)


@TABLE.op("ConvInteger")
def conv_integer(ctx: Ctx) -> str:
    return f"{_conv_int(ctx, 0, 2, 1, 3, None)}.int()"


@TABLE.op("QLinearConv")
def qlinear_conv(ctx: Ctx) -> str:
    bias = f"{ctx.x(8)}.double()" if ctx.has(8) else None
    acc = ctx.tmp("acc")
    ctx.stmt(f"{acc} = {_conv_int(ctx, 0, 2, 3, 5, bias)}")
    n = ctx.need_rank(0) - 2
    # a per-output-channel weight scale lines up with the channel axis of the result
    per_channel = ctx.rank(4) == 1 and _static_size(ctx, 4) != 1
    shape_w = f".reshape({', '.join(['-1'] + ['1'] * n)})" if per_channel else ""
    return _requantize(ctx, acc, _multiplier(ctx, [1, 4, 6], shape_w), 7)

