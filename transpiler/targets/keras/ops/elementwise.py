"""Elementwise math, comparisons, logic, Where, Clip: `keras.ops` calls or operators,
computed in whatever layout their inputs are held (constants transposed to match)."""

from __future__ import annotations

import numpy as np

from .... import ir
from ..context import FLOATS, Ctx, lit
from ..layout import Perm
from . import TABLE
from ._util import add_code, common_perm, operand, operand_shape

UNARY = {
    "Abs": "ops.abs", "Neg": "ops.negative", "Exp": "ops.exp", "Log": "ops.log", "Sqrt": "ops.sqrt",
    "Sin": "ops.sin", "Cos": "ops.cos", "Tan": "ops.tan", "Asin": "ops.arcsin", "Acos": "ops.arccos",
    "Atan": "ops.arctan", "Sinh": "ops.sinh", "Cosh": "ops.cosh", "Asinh": "ops.arcsinh",
    "Acosh": "ops.arccosh", "Atanh": "ops.arctanh", "Ceil": "ops.ceil", "Floor": "ops.floor",
    "Round": "ops.round", "Sign": "ops.sign", "Reciprocal": "ops.reciprocal", "Erf": "ops.erf",
    "Sigmoid": "ops.sigmoid", "Tanh": "ops.tanh", "Relu": "ops.relu", "Softsign": "ops.softsign",
    "IsNaN": "ops.isnan", "Not": "ops.logical_not", "BitwiseNot": "ops.bitwise_invert",
}
FLOAT_ONLY = frozenset({
    "Exp", "Log", "Sqrt", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh",
    "Atanh", "Erf", "Sigmoid", "Tanh", "Softsign", "Reciprocal", "Ceil", "Floor", "Round",
})


def _same_layout(ctx: Ctx) -> str:
    perm = ctx.perm(0)
    ctx.set_perm(0, perm)
    return ctx.x(0, perm)


@TABLE.op(*UNARY)
def unary(ctx: Ctx) -> str:
    op = ctx.node.op_type
    if op in FLOAT_ONLY and ctx.elem(0) not in FLOATS:
        raise ctx.refuse(f"{op} on element type {ctx.elem(0)}")
    return f"{UNARY[op]}({_same_layout(ctx)})"


@TABLE.op("Identity")
def identity(ctx: Ctx) -> str:
    return _same_layout(ctx)


@TABLE.op("IsInf")
def isinf(ctx: Ctx) -> str:
    x = _same_layout(ctx)
    pos, neg = ctx.attr("detect_positive", 1), ctx.attr("detect_negative", 1)
    if pos and neg:
        return f"ops.isinf({x})"
    if pos:
        return f"ops.logical_and(ops.isinf({x}), ops.greater({x}, 0))"
    if neg:
        return f"ops.logical_and(ops.isinf({x}), ops.less({x}, 0))"
    return f"ops.zeros_like({x}, dtype='bool')"


OPERATORS = {"Add": "+", "Sub": "-", "Mul": "*"}
BINARY = {
    "Add": "ops.add", "Sub": "ops.subtract", "Mul": "ops.multiply", "Pow": "ops.power",
    "Equal": "ops.equal", "Greater": "ops.greater", "Less": "ops.less", "GreaterOrEqual": "ops.greater_equal",
    "LessOrEqual": "ops.less_equal", "And": "ops.logical_and", "Or": "ops.logical_or",
    "Xor": "ops.logical_xor", "BitwiseAnd": "ops.bitwise_and", "BitwiseOr": "ops.bitwise_or",
    "BitwiseXor": "ops.bitwise_xor",
}


def _binary_operands(ctx: Ctx) -> tuple[str, str]:
    perm = common_perm(ctx, [0, 1])
    ctx.set_perm(0, perm)
    return operand(ctx, 0, perm), operand(ctx, 1, perm)


def _out_shape(ctx: Ctx, perm: Perm) -> tuple | None:
    s = ctx.out_shape(0)
    return s if s is None or perm is None else tuple(s[p] for p in perm)


def _broadcast(a: tuple | None, b: tuple | None) -> tuple | None:
    if a is None or b is None:
        return None
    try:
        return tuple(np.broadcast_shapes(a, b))
    except (TypeError, ValueError):  # symbolic dims
        return None


@TABLE.op(*BINARY)
def binary(ctx: Ctx) -> str:
    op = ctx.node.op_type
    if op == "Pow" and ctx.elem(0) not in FLOATS:
        return int_power(ctx)
    perm = common_perm(ctx, [0, 1])
    ctx.set_perm(0, perm)
    a, b = operand(ctx, 0, perm), operand(ctx, 1, perm)
    if op == "Add":
        safe = add_code(a, b, operand_shape(ctx, 0, perm), operand_shape(ctx, 1, perm), _out_shape(ctx, perm))
        if safe != f"ops.add({a}, {b})":
            return safe
    # `a * b` only when a is a KerasTensor: a concrete (constant-only) tensor on the left of an
    # operator meets the KerasTensor's reflected operator on no backend but jax's failing one
    if op in OPERATORS and a.isidentifier() and ctx.is_symbolic(0) and ctx.elem(0) == ctx.elem(1):
        return f"{a} {OPERATORS[op]} {b}"
    if op == "Pow":
        if b == "2.0" or b == "2":
            return f"ops.square({a})"
        if ctx.elem(1) != ctx.elem(0) and not b[:1].isdigit():
            b = f"ops.cast({b}, {lit(ctx.dtype(ctx.elem(0)))})"
    return f"{BINARY[op]}({a}, {b})"


EXPONENT_BITS = {ir.INT8: 7, ir.INT16: 15, ir.INT32: 31, ir.INT64: 63, ir.UINT8: 8, ir.UINT16: 16, ir.UINT32: 32, ir.UINT64: 64}


def int_power(ctx: Ctx) -> str:
    """Pow of an integer base: exact, by squaring over the bits of an integer exponent (products
    wrap like numpy's integer power); a negative exponent gives 0 except for a base of 1 or -1."""
    a, b = _binary_operands(ctx)
    e_elem = ctx.elem(1)
    if e_elem not in EXPONENT_BITS:
        c = ctx.const(1)
        if e_elem not in FLOATS or c is None or not np.all(np.isfinite(c)) or not np.all(c == np.round(c)):
            # the result would be pow() rounded in floating point and truncated: not exact on every backend
            raise ctx.refuse("Pow of an integer base by a non-integer or run-time float exponent")
        e_elem = ir.INT64
        b = operand(ctx, 1, ctx.perm(0)) if ctx.scalar(1) is None else lit(int(ctx.const(1).reshape(()).item()))
        b = f"ops.cast({b}, 'int64')"
    result, base, exp = ctx.tmp("power"), ctx.tmp("base"), ctx.tmp("exponent")
    signed = e_elem in (ir.INT8, ir.INT16, ir.INT32, ir.INT64)
    ctx.stmt(f"{result}, {base}, {exp} = ops.ones_like({a}), {a}, {f'ops.abs({b})' if signed else b}")
    ctx.stmt(
        f"for _ in range({EXPONENT_BITS[e_elem]}):  # the exponent's bits, lowest first\n"
        f"    {result} = ops.where(ops.equal(ops.mod({exp}, 2), 1), {result} * {base}, {result})\n"
        f"    {base} = {base} * {base}\n"
        f"    {exp} = ops.right_shift({exp}, 1)"
    )
    if not signed:
        return result
    # x ** -n is 1 / x ** n: its integer part is 0 unless |x| == 1
    tiny = f"ops.logical_and(ops.less({b}, 0), ops.not_equal(ops.abs({a}), 1))"
    return f"ops.where({tiny}, ops.zeros_like({result}), {result})"


def divisor_is_broadcast(ctx: Ctx, i: int) -> bool:
    """Whether divisor input i is a constant whose reciprocal is inexact, or is broadcast at run
    time: XLA (the jax backend) divides by such a divisor as a product with its rounded
    reciprocal, which is not the correctly rounded quotient ONNX computes."""
    c = ctx.const(i)
    if c is not None:
        mant = np.frexp(np.asarray(c, dtype=np.float64))[0]
        return not np.all(np.isin(np.abs(mant), (0.0, 0.5)))  # powers of two (and 0) are exact
    return ctx.shape(i) != ctx.out_shape(0)


def divide_rounded(a: str, b: str, dtype: str) -> str:
    """a / b for float32 / float16 / bfloat16 operands, correctly rounded on every backend: the
    quotient is computed in float64 (XLA's reciprocal product is within 2 ulps there) and rounded
    once to `dtype` (a quotient of p-bit floats is never that close to a rounding midpoint)."""
    return f"ops.cast(ops.divide(ops.cast({a}, 'float64'), ops.cast({b}, 'float64')), {lit(dtype)})"


@TABLE.op("Div")
def div(ctx: Ctx) -> str:
    a, b = _binary_operands(ctx)
    if ctx.elem(0) in FLOATS:
        if divisor_is_broadcast(ctx, 1) and ctx.elem(0) != ir.DOUBLE:
            return divide_rounded(a, b, ctx.dtype(ctx.elem(0)))
        return f"{a} / {b}" if a.isidentifier() else f"ops.divide({a}, {b})"
    if ctx.elem(0) in (ir.UINT8, ir.UINT16, ir.UINT32, ir.UINT64):
        return f"ops.floor_divide({a}, {b})"  # no negative values: truncating is rounding down
    # ONNX integer division truncates toward zero; floor_divide rounds down
    q = f"ops.floor_divide(ops.abs({a}), ops.abs({b}))"
    return f"ops.where(ops.equal(ops.less({a}, 0), ops.less({b}, 0)), {q}, ops.negative({q}))"


@TABLE.op("Mod")
def mod(ctx: Ctx) -> str:
    a, b = _binary_operands(ctx)
    if ctx.attr("fmod", 0):
        # C fmod: the sign of the dividend
        r = f"ops.mod(ops.abs({a}), ops.abs({b}))"
        return f"ops.where(ops.less({a}, 0), ops.negative({r}), {r})"
    # floor modulo (the sign of the divisor): keras.ops.mod is numpy's remainder on every backend
    # (C fmod, plus the divisor when the signs differ), for floats as for ints
    return f"ops.mod({a}, {b})"


@TABLE.op("BitShift")
def bitshift(ctx: Ctx) -> str:
    a, b = _binary_operands(ctx)
    width = WIDTHS.get(ctx.elem(0))
    if width is None:
        raise ctx.refuse(f"BitShift of element type {ctx.elem(0)}")
    # a shift by a negative amount or by the width or more shifts every bit out (backends differ
    # there, so such amounts are spelled out): 0, or the sign for a right shift of a signed int
    signed = ctx.elem(0) in (ir.INT8, ir.INT16, ir.INT32, ir.INT64)
    b = ctx.assign("shift", b)
    amount = f"ops.clip({b}, 0, {width - 1})"
    out = f"ops.logical_or(ops.less({b}, 0), ops.greater_equal({b}, {width}))" if signed else f"ops.greater_equal({b}, {width})"
    direction = ctx.attr("direction")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    if direction != "LEFT" and signed:
        amount = f"ops.where(ops.less({b}, 0), {width - 1}, {amount})"
        return f"ops.right_shift({a}, {amount})"  # shifting by width - 1 leaves the sign
    shifted = ctx.assign("shifted", f"{'ops.left_shift' if direction == 'LEFT' else 'ops.right_shift'}({a}, {amount})")
    return f"ops.where({out}, ops.zeros_like({shifted}), {shifted})"


WIDTHS = {
    ir.INT8: 8, ir.UINT8: 8, ir.INT16: 16, ir.UINT16: 16, ir.INT32: 32, ir.UINT32: 32, ir.INT64: 64, ir.UINT64: 64,
}


VARIADIC = {"Sum": "ops.add", "Max": "ops.maximum", "Min": "ops.minimum", "Mean": "ops.add"}


@TABLE.op(*VARIADIC)
def variadic(ctx: Ctx) -> str:
    op = ctx.node.op_type
    idxs = [i for i in range(ctx.n_in) if ctx.has(i)]
    perm = common_perm(ctx, idxs)
    ctx.set_perm(0, perm)
    xs = [operand(ctx, i, perm) for i in idxs]
    if len(xs) == 1:
        expr = xs[0]
        if not expr.isidentifier():
            expr = f"ops.convert_to_tensor({expr})"
    else:
        expr, shape = xs[0], operand_shape(ctx, idxs[0], perm)
        for i, x in zip(idxs[1:], xs[1:]):
            if VARIADIC[op] == "ops.add":
                expr = add_code(expr, x, shape, operand_shape(ctx, i, perm), _out_shape(ctx, perm))
                shape = _broadcast(shape, operand_shape(ctx, i, perm))
            elif ctx.elem(0) in WIDE_64:
                expr = _extreme(op, expr, x, ctx.elem(0) in FLOATS)
            else:
                expr = f"{VARIADIC[op]}({expr}, {x})"
    if op == "Mean":
        if ctx.elem(0) not in FLOATS:
            raise ctx.refuse("Mean of integers")
        expr = f"ops.divide({expr}, {lit(float(len(xs)))})"
    return expr


# Keras's torch backend computes ops.maximum / ops.minimum of 64-bit tensors in 32 bits (keras 3.15.1)
WIDE_64 = frozenset({ir.INT64, ir.UINT64, ir.DOUBLE})


def _extreme(op: str, a: str, b: str, floating: bool) -> str:
    """Max / Min of two 64-bit tensors by comparison, exact on every backend; NaN propagates."""
    pick = f"{'ops.greater' if op == 'Max' else 'ops.less'}({a}, {b})"
    if floating:
        pick = f"ops.logical_or({pick}, ops.isnan({a}))"
    return f"ops.where({pick}, {a}, {b})"


@TABLE.op("Where")
def where(ctx: Ctx) -> str:
    perm = common_perm(ctx, [0, 1, 2])
    ctx.set_perm(0, perm)
    expr = f"ops.where({operand(ctx, 0, perm)}, {operand(ctx, 1, perm)}, {operand(ctx, 2, perm)})"
    if ctx.scalar(1) is not None and ctx.scalar(2) is not None:
        # two Python numbers give the backend's default dtype (float64 on jax with x64), not the ONNX one
        return f"ops.cast({expr}, {lit(ctx.dtype(ctx.elem(1)))})"
    return expr


@TABLE.op("Clip")
def clip(ctx: Ctx) -> str:
    perm = ctx.perm(0)
    ctx.set_perm(0, perm)
    x = ctx.x(0, perm)
    lo = ctx.scalar(1) if ctx.has(1) else None
    hi = ctx.scalar(2) if ctx.has(2) else None
    if ctx.has(1) and lo is None:
        lo = ctx.x(1)
        if ctx.rank(1) != 0:
            raise ctx.refuse("Clip bounds must be scalars")
    if ctx.has(2) and hi is None:
        hi = ctx.x(2)
        if ctx.rank(2) != 0:
            raise ctx.refuse("Clip bounds must be scalars")
    if lo in ("0.0", "0") and hi == "6.0" and ctx.elem(0) in FLOATS:
        return f"ops.relu6({x})"
    if lo in ("0.0", "0") and hi is None and ctx.elem(0) in FLOATS:
        return f"ops.relu({x})"
    expr = x
    if lo is not None:
        expr = f"ops.maximum({expr}, {lo})"
    if hi is not None:
        expr = f"ops.minimum({expr}, {hi})"
    return expr if expr != x else _alias(x)


def _alias(x: str) -> str:
    return x
