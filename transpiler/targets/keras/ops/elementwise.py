"""Elementwise math, comparisons, logic, Where, Clip, Cast: `keras.ops` calls or operators,
computed in whatever layout their inputs are held (constants transposed to match)."""

from __future__ import annotations

from .... import ir
from ..context import FLOATS, Ctx, lit
from . import TABLE
from ._util import common_perm, operand

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


@TABLE.op(*BINARY)
def binary(ctx: Ctx) -> str:
    op = ctx.node.op_type
    if op == "Pow" and ctx.elem(0) not in FLOATS:
        raise ctx.refuse("Pow of integers (Keras computes it in floating point)")
    a, b = _binary_operands(ctx)
    if op in OPERATORS and a.isidentifier() and ctx.elem(0) == ctx.elem(1):
        return f"{a} {OPERATORS[op]} {b}"
    if op == "Pow":
        if b == "2.0" or b == "2":
            return f"ops.square({a})"
        if ctx.elem(1) != ctx.elem(0) and not b[:1].isdigit():
            b = f"ops.cast({b}, {lit(ctx.dtype(ctx.elem(0)))})"
    return f"{BINARY[op]}({a}, {b})"


@TABLE.op("Div")
def div(ctx: Ctx) -> str:
    a, b = _binary_operands(ctx)
    if ctx.elem(0) in FLOATS:
        return f"{a} / {b}" if a.isidentifier() else f"ops.divide({a}, {b})"
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
    if ctx.elem(0) in FLOATS:
        raise ctx.refuse("Mod with fmod=0 on floats")
    return f"ops.mod({a}, {b})"


@TABLE.op("BitShift")
def bitshift(ctx: Ctx) -> str:
    a, b = _binary_operands(ctx)
    fn = "ops.left_shift" if ctx.attr("direction") == "LEFT" else "ops.right_shift"
    return f"{fn}({a}, {b})"


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
        expr = xs[0]
        for x in xs[1:]:
            expr = f"{VARIADIC[op]}({expr}, {x})"
    if op == "Mean":
        if ctx.elem(0) not in FLOATS:
            raise ctx.refuse("Mean of integers")
        expr = f"ops.divide({expr}, {lit(float(len(xs)))})"
    return expr


@TABLE.op("Where")
def where(ctx: Ctx) -> str:
    perm = common_perm(ctx, [0, 1, 2])
    ctx.set_perm(0, perm)
    return f"ops.where({operand(ctx, 0, perm)}, {operand(ctx, 1, perm)}, {operand(ctx, 2, perm)})"


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


@TABLE.op("Cast")
def cast(ctx: Ctx) -> str:
    to = ctx.attr("to")
    dtype = ctx.dtype(to)
    if ctx.elem(0) not in {ir.FLOAT, ir.DOUBLE, ir.FLOAT16, ir.BFLOAT16, ir.BOOL} | set(ir.INT_TYPES):
        raise ctx.refuse(f"Cast from element type {ctx.elem(0)}")
    return f"ops.cast({_same_layout(ctx)}, {lit(dtype)})"


@TABLE.op("CastLike")
def cast_like(ctx: Ctx) -> str:
    dtype = ctx.dtype(ctx.elem(1))
    if ctx.elem(0) not in {ir.FLOAT, ir.DOUBLE, ir.FLOAT16, ir.BFLOAT16, ir.BOOL} | set(ir.INT_TYPES):
        raise ctx.refuse(f"Cast from element type {ctx.elem(0)}")
    return f"ops.cast({_same_layout(ctx)}, {lit(dtype)})"
