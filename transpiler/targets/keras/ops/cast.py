"""Type conversion: Cast, CastLike, BitCast.

Element types no Keras backend has (float8 e4m3fn / e4m3fnuz / e5m2 / e5m2fnuz, float4e2m1,
float8e8m0, int4 / uint4 / int2 / uint2) travel in a wider dtype that holds each of their values
exactly (context.WIDE_DTYPES: the floats in float32, the small ints in int8 / uint8); the generated
file lists the inputs / outputs so held. A cast *to* such a type computes the value ONNX's reference
gives (onnx.reference Cast: round to nearest even at the target precision with its subnormals,
`saturate`, NaN / inf per type; int4 / int2 truncate toward zero and wrap), with arithmetic that is
exact on every backend: the float's exponent is read from its bits (`ops.view`), the value is
divided by its quantum (a power of two built from bits), rounded half to even and scaled back. A
cast *from* such a type is a plain cast of the exact wide value.
"""

from __future__ import annotations

from .... import ir
from ..context import FLOATS, WIDE_DTYPES, Ctx, lit
from . import TABLE

# float8 / float4 types: (mantissa bits, exponent of the smallest normal, largest finite value)
SMALL_FLOATS = {
    ir.FLOAT8E4M3FN: (3, -6, 448.0), ir.FLOAT8E4M3FNUZ: (3, -7, 240.0), ir.FLOAT8E5M2: (2, -14, 57344.0),
    ir.FLOAT8E5M2FNUZ: (2, -15, 57344.0), ir.FLOAT4E2M1: (1, 0, 6.0),
}
FLOAT8 = frozenset({ir.FLOAT8E4M3FN, ir.FLOAT8E4M3FNUZ, ir.FLOAT8E5M2, ir.FLOAT8E5M2FNUZ})
NO_NEGATIVE_ZERO = frozenset({ir.FLOAT8E4M3FNUZ, ir.FLOAT8E5M2FNUZ})
# ints narrower than a byte: (bits, signed)
SMALL_INTS = {ir.INT4: (4, True), ir.UINT4: (4, False), ir.INT2: (2, True), ir.UINT2: (2, False)}
PLAIN_INTS = frozenset(ir.INT_TYPES)


def _float_source(x: str, src: int) -> tuple[str, str]:
    """`x` as a float tensor holding its values exactly: float32 or (for doubles and 32-bit ints) float64."""
    if src == ir.DOUBLE:
        return x, "float64"
    if src in (ir.INT32, ir.UINT32):
        return f"ops.cast({x}, 'float64')", "float64"
    if src == ir.FLOAT or WIDE_DTYPES.get(src) == "float32":
        return x, "float32"
    # float16, bfloat16, bool, 8 / 16-bit ints: exact; 64-bit ints: |x| >= 2**24 is beyond every
    # small float's range, so float32's rounding of such values cannot change the result
    return f"ops.cast({x}, 'float32')", "float32"


def to_small_float(ctx: Ctx, x: str, src: int, dst: int, saturate: bool) -> str:
    """Code rounding tensor code `x` (element type `src`) to float8 / float4 type `dst`, held wide."""
    mant, emin, top = SMALL_FLOATS[dst]
    x, fdt = _float_source(x, src)
    x = ctx.assign("x", x)
    a = ctx.assign("mag", f"ops.abs({x})")
    x32, a32 = (x, a) if fdt == "float32" else (f"ops.cast({x}, 'float32')", f"ops.cast({a}, 'float32')")
    # the biased float32 exponent of |x|, from its bits
    e = ctx.assign("exp", f"ops.right_shift(ops.view({a32}, 'int32'), 23)")
    if fdt == "float64":
        # float32 rounding may have carried |x| up to the next power of two: step back then
        p2 = f"ops.cast(ops.view(ops.left_shift({e}, 23), 'float32'), 'float64')"
        e = ctx.assign("exp", f"ops.where(ops.greater({p2}, {a}), {e} - 1, {e})")
    # the quantum (spacing of the target's values around |x|), a power of two built from its bits
    q = f"ops.view(ops.left_shift(ops.maximum({e}, {emin + 127}) - {mant}, 23), 'float32')"
    q = ctx.assign("quantum", q if fdt == "float32" else f"ops.cast({q}, 'float64')")
    # |x| / quantum < 2 ** (mant + 1) is exact; ops.round rounds half to even on every backend
    r = ctx.assign("mag", f"ops.round({a} / {q}) * {q}")
    sign = f"ops.less(ops.view({x32}, 'int32'), 0)"
    if dst == ir.FLOAT4E2M1:
        # no inf / NaN: overflow saturates; NaN becomes a zero of the opposite sign (as ml_dtypes,
        # which ONNX's reference uses, does)
        r = ctx.assign("mag", f"ops.where(ops.isnan({a}), 0.0, ops.minimum({r}, {lit(top)}))")
        sign = f"ops.logical_xor({sign}, ops.isnan({x}))"
    elif saturate:
        r = ctx.assign("mag", f"ops.where(ops.greater_equal({a}, {lit(top)}), {lit(top)}, {r})")
    else:
        over = "float('inf')" if dst == ir.FLOAT8E5M2 else "float('nan')"
        r = ctx.assign("mag", f"ops.where(ops.greater({r}, {lit(top)}), {over}, {r})")
    if dst in NO_NEGATIVE_ZERO:
        sign = f"ops.logical_and({sign}, ops.not_equal({r}, 0.0))"
    y = f"ops.where({sign}, ops.negative({r}), {r})"
    return y if fdt == "float32" else f"ops.cast({y}, 'float32')"


def to_float8e8m0(ctx: Ctx, x: str, saturate: bool, round_mode: str) -> str:
    """Code for ONNX's float8e8m0 conversion (onnx.numpy_helper.to_float8e8m0, which ONNX's reference
    and test data use), held in float32: the float32 exponent field (the sign is ignored), rounded
    by the mantissa bits; NaN / inf give NaN (the reference's choice where the spec leaves inf open)."""
    x = ctx.assign("bits", f"ops.view(ops.abs(ops.cast({x}, 'float32')), 'int32')")
    e = ctx.assign("exp", f"ops.right_shift({x}, 23)")
    frac = ctx.assign("frac", f"{x} - ops.left_shift({e}, 23)")
    special = f"ops.equal({e}, 255)"
    if round_mode == "up":
        up = f"ops.logical_and(ops.not_equal({frac}, 0), ops.logical_not({special}))"
    elif round_mode == "nearest":
        # guard bit 22, round bit 21, sticky bits 0-20 of the mantissa
        g = f"ops.greater_equal({frac}, 4194304)"
        r = f"ops.equal(ops.mod(ops.right_shift({frac}, 21), 2), 1)"
        rest = f"ops.not_equal(ops.mod({frac}, 2097152), 0)"
        up = f"ops.logical_and({g}, ops.logical_or(ops.logical_or({r}, {rest}), ops.greater({e}, 0)))"
        up = f"ops.logical_and({up}, ops.logical_not({special}))"
    else:
        up = None
    if up is not None:
        if saturate:
            up = f"ops.logical_and({up}, ops.not_equal({e}, 254))"
        e = ctx.assign("exp", f"ops.where({up}, {e} + 1, {e})")
    # exponent field k is 2 ** (k - 127); k == 0 is 2 ** -127, a float32 subnormal (bits 1 << 22)
    value = f"ops.view(ops.where(ops.equal({e}, 0), ops.full_like({e}, 4194304), ops.left_shift({e}, 23)), 'float32')"
    return f"ops.where(ops.equal({e}, 255), float('nan'), {value})"


def to_small_int(ctx: Ctx, x: str, src: int, dst: int) -> str:
    """Code for a cast to int4 / uint4 / int2 / uint2 (held in int8 / uint8): floats truncate toward
    zero (NaN / inf give 0), then every value wraps modulo 2 ** bits like ml_dtypes' conversion."""
    bits, signed = SMALL_INTS[dst]
    n = 1 << bits
    if src in SMALL_INTS and (src == dst or not SMALL_INTS[src][1] and SMALL_INTS[src][0] < bits):
        return f"ops.cast({x}, {lit(WIDE_DTYPES[dst])})"  # every value fits
    if src in PLAIN_INTS or src in SMALL_INTS or src == ir.BOOL:
        w = f"ops.mod({x}, {n})" if src != ir.BOOL else x
        w = ctx.assign("wrapped", f"ops.cast({w}, 'int32')")
    else:
        x, _ = _float_source(x, src)
        x = ctx.assign("x", x)
        t = ctx.assign("whole", f"ops.where(ops.isfinite({x}), ops.trunc({x}), 0.0)")
        # exact: t / n and its floor are exact, and the difference is a small integer
        w = ctx.assign("wrapped", f"ops.cast({t} - ops.floor({t} / {n}.0) * {n}.0, 'int32')")
    if signed:
        w = f"ops.where(ops.greater_equal({w}, {n // 2}), {w} - {n}, {w})"
    return f"ops.cast({w}, {lit(WIDE_DTYPES[dst])})"


def convert(ctx: Ctx, x: str, src: int, dst: int, saturate: bool = True, round_mode: str = "up") -> str:
    """Code for ONNX Cast of tensor code `x` from element type `src` to `dst`."""
    known = FLOATS | PLAIN_INTS | set(WIDE_DTYPES) | {ir.BOOL}
    if src not in known:
        raise ctx.refuse(f"Cast from element type {src}")
    if dst not in known:
        raise ctx.refuse(f"element type {dst} has no Keras dtype")
    if src == dst and not (dst == ir.FLOAT8E5M2 and saturate):
        return f"ops.cast({x}, {lit(ctx.dtype(dst))})"
    if dst in SMALL_FLOATS:
        if src == ir.FLOAT8E8M0:
            raise ctx.refuse("Cast from float8e8m0 to a float8 / float4 type")
        return to_small_float(ctx, x, src, dst, bool(saturate) and dst in FLOAT8)
    if dst == ir.FLOAT8E8M0:
        return to_float8e8m0(ctx, x, bool(saturate), round_mode)
    if dst in SMALL_INTS:
        return to_small_int(ctx, x, src, dst)
    return f"ops.cast({x}, {lit(ctx.dtype(dst))})"  # from a wide type: its value is exact


def _same_layout(ctx: Ctx) -> str:
    perm = ctx.perm(0)
    ctx.set_perm(0, perm)
    return ctx.x(0, perm)


def _round_mode(ctx: Ctx) -> str:
    mode = ctx.attr("round_mode", "up")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode not in ("up", "down", "nearest"):
        raise ctx.refuse(f"round_mode {mode!r} is not one of up, down, nearest")
    return mode


@TABLE.op("Cast")
def cast(ctx: Ctx) -> str:
    return convert(ctx, _same_layout(ctx), ctx.elem(0), ctx.attr("to"), ctx.attr("saturate", 1), _round_mode(ctx))


@TABLE.op("CastLike")
def cast_like(ctx: Ctx) -> str:
    return convert(ctx, _same_layout(ctx), ctx.elem(0), ctx.elem(1), ctx.attr("saturate", 1), _round_mode(ctx))


# BitCast: element types by width; signed ints are the ones `ops.view` reinterprets on every
# backend (Keras' torch backend holds uint16 / uint32 / uint64 in wider signed dtypes, so a view
# of those would read the wrong bytes: their bits are moved by arithmetic instead)
BIT_FLOATS = {ir.FLOAT16: 16, ir.BFLOAT16: 16, ir.FLOAT: 32, ir.DOUBLE: 64}
SIGNED = {ir.INT8: 8, ir.INT16: 16, ir.INT32: 32, ir.INT64: 64}
UNSIGNED = {ir.UINT8: 8, ir.UINT16: 16, ir.UINT32: 32, ir.UINT64: 64}
SIGNED_OF = {8: ir.INT8, 16: ir.INT16, 32: ir.INT32, 64: ir.INT64}


def _to_signed(ctx: Ctx, x: str, bits: int) -> str:
    """Unsigned ints of `bits` bits as the signed ints with the same bit pattern."""
    if bits == 64:
        raise ctx.refuse("BitCast between 64-bit signed and unsigned ints (no exact Keras lowering)")
    wide = ctx.assign("x", f"ops.cast({x}, 'int64')")
    return f"ops.cast(ops.where(ops.greater_equal({wide}, {1 << (bits - 1)}), {wide} - {1 << bits}, {wide}), {lit(ctx.dtype(SIGNED_OF[bits]))})"


def _to_unsigned(ctx: Ctx, x: str, bits: int, dst: int) -> str:
    """Signed ints of `bits` bits as the unsigned ints `dst` with the same bit pattern."""
    if bits == 64:
        raise ctx.refuse("BitCast between 64-bit signed and unsigned ints (no exact Keras lowering)")
    wide = ctx.assign("x", f"ops.cast({x}, 'int64')")
    return f"ops.cast(ops.where(ops.less({wide}, 0), {wide} + {1 << bits}, {wide}), {lit(ctx.dtype(dst))})"


@TABLE.op("BitCast")
def bit_cast(ctx: Ctx) -> str:
    src, dst = ctx.elem(0), ctx.attr("to")
    width = {**BIT_FLOATS, **SIGNED, **UNSIGNED, ir.BOOL: 8}
    if src not in width or dst not in width:
        raise ctx.refuse(f"BitCast from element type {src} to {dst}")
    if width[src] != width[dst]:
        raise ctx.refuse("BitCast needs types of the same bit width")
    x = _same_layout(ctx)
    if src == dst:
        return x
    if dst == ir.BOOL:
        raise ctx.refuse("BitCast to bool (a byte other than 0 / 1 is no bool value)")
    if src == ir.BOOL:
        return f"ops.cast({x}, {lit(ctx.dtype(dst))})"  # false / true are the bytes 0 / 1
    bits = width[src]
    if src in UNSIGNED:
        x, src = _to_signed(ctx, x, bits), SIGNED_OF[bits]
        if src == dst:
            return x
    if dst in UNSIGNED:
        if src in BIT_FLOATS:
            x = f"ops.view({x}, {lit(ctx.dtype(SIGNED_OF[bits]))})"
        return _to_unsigned(ctx, x, bits, dst)
    return f"ops.view({x}, {lit(ctx.dtype(dst))})"
