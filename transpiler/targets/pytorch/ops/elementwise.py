"""Elementwise ops: unary math, binary arithmetic and comparison, logic, activations, Cast."""

from __future__ import annotations

import numpy as np

from ..context import Ctx, call, lit
from . import TABLE
from ._util import is_float

# op -> expression with {x}: ops that are one call with no attributes.
UNARY = {
    "Abs": "torch.abs({x})",
    "Neg": "-{x}",
    "Sqrt": "torch.sqrt({x})",
    "Exp": "torch.exp({x})",
    "Log": "torch.log({x})",
    "Erf": "torch.erf({x})",
    "Tanh": "torch.tanh({x})",
    "Sigmoid": "torch.sigmoid({x})",
    "Relu": "F.relu({x})",
    "Reciprocal": "torch.reciprocal({x})",
    "Floor": "torch.floor({x})",
    "Ceil": "torch.ceil({x})",
    "Sin": "torch.sin({x})",
    "Cos": "torch.cos({x})",
    "Tan": "torch.tan({x})",
    "Asin": "torch.asin({x})",
    "Acos": "torch.acos({x})",
    "Atan": "torch.atan({x})",
    "Sinh": "torch.sinh({x})",
    "Cosh": "torch.cosh({x})",
    "Asinh": "torch.asinh({x})",
    "Acosh": "torch.acosh({x})",
    "Atanh": "torch.atanh({x})",
    "Sign": "torch.sign({x})",
    "Round": "torch.round({x})",
    "Softsign": "F.softsign({x})",
    "HardSwish": "F.hardswish({x})",
    "Mish": "F.mish({x})",
    "IsNaN": "torch.isnan({x})",
    "Not": "torch.logical_not({x})",
    "BitwiseNot": "torch.bitwise_not({x})",
}

# op -> Python operator; these promote exactly as ONNX wants when both sides share a dtype.
BINARY_OPERATORS = {"Add": "+", "Sub": "-", "Mul": "*"}
COMPARISONS = {
    "Equal": "==", "Less": "<", "Greater": ">", "LessOrEqual": "<=", "GreaterOrEqual": ">=",
}
LOGICAL = {"And": "torch.logical_and", "Or": "torch.logical_or", "Xor": "torch.logical_xor"}
BITWISE = {"BitwiseAnd": "torch.bitwise_and", "BitwiseOr": "torch.bitwise_or", "BitwiseXor": "torch.bitwise_xor"}


@TABLE.op(*UNARY)
def unary(ctx: Ctx) -> str:
    return UNARY[ctx.node.op_type].format(x=ctx.x(0))


def _operands(ctx: Ctx) -> tuple[str, str]:
    """Both operands; a one-element constant becomes a Python literal where that is exact."""
    a = ctx.scalar_or_x(0, ctx.rank(1))
    b = ctx.x(1) if _is_literal(a) else ctx.scalar_or_x(1, ctx.rank(0))
    return a, b


def _is_literal(code: str) -> bool:
    return not (code.startswith("self.") or code.isidentifier())


@TABLE.op(*BINARY_OPERATORS)
def binary(ctx: Ctx) -> str:
    a, b = _operands(ctx)
    return f"{a} {BINARY_OPERATORS[ctx.node.op_type]} {b}"


@TABLE.op("Div")
def div(ctx: Ctx) -> str:
    a, b = _operands(ctx)
    if is_float(ctx.elem(0)):
        return f"{a} / {b}"
    return call("torch.div", a, b, rounding_mode="trunc")


@TABLE.op(*COMPARISONS)
def compare(ctx: Ctx) -> str:
    a, b = _operands(ctx)
    return f"{a} {COMPARISONS[ctx.node.op_type]} {b}"


@TABLE.op(*LOGICAL)
def logical(ctx: Ctx) -> str:
    return call(LOGICAL[ctx.node.op_type], ctx.x(0), ctx.x(1))


@TABLE.op(*BITWISE)
def bitwise(ctx: Ctx) -> str:
    return call(BITWISE[ctx.node.op_type], ctx.x(0), ctx.x(1))


@TABLE.op("Pow")
def pow_(ctx: Ctx) -> str:
    c = ctx.const(1)
    if c is not None and c.size == 1 and c.ndim <= (ctx.rank(0) or 0) and is_float(ctx.elem(0)):
        e = float(c.reshape(()))
        if e == 2.0:
            return f"{ctx.x(0)} * {ctx.x(0)}" if ctx.x(0).isidentifier() else call("torch.square", ctx.x(0))
        if e == 0.5:
            return call("torch.sqrt", ctx.x(0))
        return call("torch.pow", ctx.x(0), lit(e))
    expr = call("torch.pow", ctx.x(0), ctx.x(1))
    if ctx.elem(0) != ctx.elem(1):
        expr = f"{expr}.to({ctx.dtype(ctx.elem(0))})"
    return expr


@TABLE.op("Identity")
def identity(ctx: Ctx) -> str:
    return ctx.x(0)


@TABLE.op("Where")
def where(ctx: Ctx) -> str:
    return call("torch.where", ctx.x(0), ctx.x(1), ctx.x(2))


@TABLE.op("Clip")
def clip(ctx: Ctx) -> str:
    lo, hi = (ctx.const(1) if ctx.has(1) else None), (ctx.const(2) if ctx.has(2) else None)
    if ctx.has(1) and lo is None or ctx.has(2) and hi is None:
        return call("torch.clamp", ctx.x(0), ctx.x(1) if ctx.has(1) else "None", ctx.x(2) if ctx.has(2) else "None")
    lo_v = None if lo is None else lo.reshape(()).item()
    hi_v = None if hi is None else hi.reshape(()).item()
    if lo_v == 0 and hi_v == 6 and is_float(ctx.elem(0)):
        return call("F.relu6", ctx.x(0))
    if lo_v == 0 and hi_v is None and is_float(ctx.elem(0)):
        return call("F.relu", ctx.x(0))
    if lo_v is None and hi_v is None:
        return ctx.x(0)
    kwargs = {}
    if lo_v is not None:
        kwargs["min"] = lo_v
    if hi_v is not None:
        kwargs["max"] = hi_v
    return call("torch.clamp", ctx.x(0), **kwargs)


@TABLE.op("HardSigmoid")
def hard_sigmoid(ctx: Ctx) -> str:
    alpha, beta = ctx.attr("alpha", 0.2), ctx.attr("beta", 0.5)
    if np.float32(alpha) == np.float32(1 / 6) and beta == 0.5:
        return call("F.hardsigmoid", ctx.x(0))
    return call("torch.clamp", f"{ctx.x(0)} * {lit(alpha)} + {lit(beta)}", lit(0.0), lit(1.0))


@TABLE.op("LeakyRelu")
def leaky_relu(ctx: Ctx) -> str:
    alpha = ctx.attr("alpha", 0.01)
    return call("F.leaky_relu", ctx.x(0), lit(alpha)) if alpha != 0.01 else call("F.leaky_relu", ctx.x(0))


@TABLE.op("Elu")
def elu(ctx: Ctx) -> str:
    alpha = ctx.attr("alpha", 1.0)
    return call("F.elu", ctx.x(0), lit(alpha)) if alpha != 1.0 else call("F.elu", ctx.x(0))


@TABLE.op("Softplus")
def softplus(ctx: Ctx) -> str:
    return call("F.softplus", ctx.x(0))


@TABLE.op("Max", "Min", "Sum", "Mean")
def variadic(ctx: Ctx) -> str:
    op = ctx.node.op_type
    xs = [ctx.x(i) for i in range(ctx.n_in)]
    if len(xs) == 1:
        return xs[0]
    fn = {"Max": "torch.maximum", "Min": "torch.minimum"}.get(op)
    if fn:
        expr = xs[0]
        for x in xs[1:]:
            expr = call(fn, expr, x)
        return expr
    total = " + ".join(xs)
    return f"({total}) / {len(xs)}" if op == "Mean" else total
