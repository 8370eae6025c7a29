"""Type conversion: Cast, CastLike, BitCast.

Element types PyTorch has no tensor for are carried exactly, one value per element:
int4 / int2 in torch.int8, uint4 / uint2 in torch.uint8 (the integer value itself), float4e2m1 in
torch.float32 (every e2m1 value is exact there), float8e8m0 in torch.float8_e8m0fnu, and a string
tensor is a numpy array of Python str (dtype object). A cast *to* a carried type produces values
of that type only (wrapping, rounding, saturating as ONNX says), so the carrier never holds a value
the type cannot. runner.py converts inputs and outputs to and from these carriers.

Float8 conversions spell out their out-of-range behaviour instead of relying on PyTorch's: with
`saturate` the value is clamped to the finite range first; without it, float8e4m3fn (which
PyTorch saturates) maps overflow to NaN explicitly. In range, PyTorch rounds to nearest even like
ONNX.
"""

from __future__ import annotations

from .... import ir
from ....errors import UnsupportedOp
from ..context import TORCH_DTYPES, Ctx, call, lit
from . import TABLE

# largest finite value of each float8 type
FLOAT8_MAX = {ir.FLOAT8E4M3FN: 448.0, ir.FLOAT8E4M3FNUZ: 240.0, ir.FLOAT8E5M2: 57344.0, ir.FLOAT8E5M2FNUZ: 57344.0}
# float8e4m3fn: |x| above this rounds past the largest finite value (448, ties to even stay there)
E4M3FN_OVERFLOW = 464.0
# ints narrower than a byte: (bits, signed)
SMALL_INTS = {ir.INT4: (4, True), ir.UINT4: (4, False), ir.INT2: (2, True), ir.UINT2: (2, False)}
INT_RANGES = {
    ir.UINT8: (0, 255), ir.INT8: (-128, 127), ir.UINT16: (0, 65535), ir.INT16: (-32768, 32767),
    ir.UINT4: (0, 15), ir.INT4: (-8, 7), ir.UINT2: (0, 3), ir.INT2: (-2, 1),
}
# what each carried / special type is held in (TORCH_DTYPES has the others)
DTYPES = {**TORCH_DTYPES, ir.FLOAT8E8M0: "torch.float8_e8m0fnu"}
FLOATS = frozenset({ir.FLOAT, ir.DOUBLE, ir.FLOAT16, ir.BFLOAT16})
# types whose tensors need `.float()` before arithmetic (clamp, abs, rounding)
BYTE_FLOATS = frozenset({*FLOAT8_MAX, ir.FLOAT8E8M0})


def dtype_of(elem: int) -> str:
    if elem not in DTYPES:
        raise UnsupportedOp(f"element type {elem} has no PyTorch dtype")
    return DTYPES[elem]


def to_float8(x: str, elem: int, saturate: bool) -> str:
    """Code casting float tensor code `x` to float8 type `elem` the way ONNX Cast does."""
    dtype = dtype_of(elem)
    if saturate:
        m = FLOAT8_MAX[elem]
        return f"{x}.clamp({lit(-m)}, {lit(m)}).to({dtype})"
    if elem == ir.FLOAT8E4M3FN:  # PyTorch would saturate; ONNX wants NaN for overflow and inf
        return f'torch.where({x}.abs() > {lit(E4M3FN_OVERFLOW)}, float("nan"), {x}).to({dtype})'
    return f"{x}.to({dtype})"  # e5m2 overflows to inf, the fnuz types to NaN: PyTorch does the same


def convert(ctx: Ctx, x: str, src: int, dst: int, saturate: bool = True, round_mode: str = "up") -> str:
    """Code for ONNX Cast of tensor code `x` from element type `src` to `dst`."""
    if src == dst:
        if dst == ir.FLOAT8E5M2 and saturate:  # the one float8 type with inf, which saturating clamps
            return to_float8(f"{x}.float()", dst, True)
        return x
    if dst == ir.STRING:
        if src in (ir.BFLOAT16, ir.FLOAT8E8M0, *FLOAT8_MAX):
            x, src = f"{x}.float()", ir.FLOAT  # numpy has no such type to print
        return call(ctx.helper("tensor_to_strings"), x)
    if src == ir.STRING:
        if dst in TORCH_DTYPES and dst not in SMALL_INTS and dst != ir.FLOAT4E2M1 and dst not in FLOAT8_MAX:
            return call(ctx.helper("strings_to_tensor"), x, dtype_of(dst))
        via = ir.INT64 if dst in SMALL_INTS else ir.DOUBLE
        x = call(ctx.helper("strings_to_tensor"), x, dtype_of(via))
        return convert(ctx, x, via, dst, saturate, round_mode)
    if src in BYTE_FLOATS and (dst in BYTE_FLOATS or dst in SMALL_INTS or dst == ir.FLOAT4E2M1):
        x, src = f"{x}.float()", ir.FLOAT  # exact; the conversions below compute on it
    if dst in FLOAT8_MAX:
        if src not in FLOATS and src != ir.FLOAT4E2M1:
            x = f"{x}.float()"  # every int beyond float32's exact range is beyond float8's range too
        return to_float8(x, dst, bool(saturate))
    if dst == ir.FLOAT8E8M0:
        return call(ctx.helper("to_float8e8m0"), x, saturate=bool(saturate), round_mode=round_mode)
    if dst == ir.FLOAT4E2M1:
        return call(ctx.helper("to_float4e2m1"), x)
    if dst in SMALL_INTS:
        lo, hi = INT_RANGES[dst]
        if src == ir.BOOL or (src in INT_RANGES and INT_RANGES[src][0] >= lo and INT_RANGES[src][1] <= hi):
            return f"{x}.to({dtype_of(dst)})"  # every value fits
        bits, signed = SMALL_INTS[dst]
        return call(ctx.helper("to_small_int"), x, lit(bits), signed=signed)
    dtype = dtype_of(dst)
    if DTYPES.get(src) == dtype:
        return x  # a carrier already holds the exact value (int4 -> int8, uint2 -> uint8, ...)
    return f"{x}.to({dtype})"


@TABLE.op("Cast")
def cast(ctx: Ctx) -> str:
    return convert(
        ctx, _input(ctx), ctx.elem(0), ctx.attr("to"), ctx.attr("saturate", 1), _round_mode(ctx)
    )


@TABLE.op("CastLike")
def cast_like(ctx: Ctx) -> str:
    return convert(
        ctx, _input(ctx), ctx.elem(0), ctx.elem(1), ctx.attr("saturate", 1), _round_mode(ctx)
    )


def _input(ctx: Ctx) -> str:
    c = ctx.const(0)
    if c is not None and c.dtype == object:  # the codegen keeps only numeric constants as weights
        return f"np.array({lit(c)}, dtype=object)"
    return ctx.x(0)


def _round_mode(ctx: Ctx) -> str:
    mode = ctx.attr("round_mode", "up")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode not in ("up", "down", "nearest"):
        raise UnsupportedOp(f"round_mode {mode!r} is not one of up, down, nearest")
    return mode


# bit width of each element type (for BitCast)
BITS = {
    ir.BOOL: 8, ir.UINT8: 8, ir.INT8: 8, ir.UINT16: 16, ir.INT16: 16, ir.FLOAT16: 16, ir.BFLOAT16: 16,
    ir.UINT32: 32, ir.INT32: 32, ir.FLOAT: 32, ir.UINT64: 64, ir.INT64: 64, ir.DOUBLE: 64,
    ir.COMPLEX64: 64, ir.COMPLEX128: 128, ir.FLOAT8E8M0: 8, **{e: 8 for e in FLOAT8_MAX},
    ir.INT4: 4, ir.UINT4: 4, ir.FLOAT4E2M1: 4, ir.INT2: 2, ir.UINT2: 2,
}


@TABLE.op("BitCast")
def bit_cast(ctx: Ctx) -> str:
    src, dst = ctx.elem(0), ctx.attr("to")
    if src not in BITS or dst not in BITS:
        raise UnsupportedOp("BitCast from or to this element type is not supported")
    if BITS[src] != BITS[dst]:
        raise UnsupportedOp("BitCast needs types of the same bit width")
    x = ctx.x(0)
    if src == dst:
        return x
    if BITS[src] >= 8:
        return f"{x}.view({dtype_of(dst)})"  # same element size: PyTorch reinterprets in place
    # sub-byte types live one value per element in wider carriers: move through the bit pattern
    if src == ir.FLOAT4E2M1:
        x, src = call(ctx.helper("float4e2m1_to_bits"), x), ir.UINT4
    if dst == ir.FLOAT4E2M1:
        if src == ir.INT4:
            x = call(ctx.helper("to_small_int"), x, lit(4), signed=False)
        return call(ctx.helper("float4e2m1_from_bits"), x)
    if src == dst:
        return x
    bits, signed = SMALL_INTS[dst]
    return call(ctx.helper("to_small_int"), x, lit(bits), signed=signed)
