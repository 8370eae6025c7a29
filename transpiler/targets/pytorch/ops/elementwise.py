"""Elementwise ops: unary math, binary arithmetic and comparison, logic, activations, Cast."""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..context import Code, Ctx, call, lit
from . import TABLE
from ._util import is_float
from .activation import attr_lit

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


# PyTorch implements little arithmetic for uint16/32/64. uint16 and uint32 values fit int64
# exactly, so those ops run in int64 and the result is cast back (the cast wraps modulo 2**n,
# as ONNX's unsigned arithmetic does). uint64 is reinterpreted as int64 bits: + - * and left
# shifts give the same bits in two's complement; ordering and division use helpers.
WIDENED = {ir.UINT16: "torch.uint16", ir.UINT32: "torch.uint32"}
SIGNED_VIEW = {ir.UINT16: "torch.int16", ir.UINT32: "torch.int32", ir.UINT64: "torch.int64"}


def _wide(code: str) -> str:
    return f"{code}.to(torch.int64)"


def _bits(code: str) -> str:
    return f"{code}.view(torch.int64)"


def _uint64_key(ctx: Ctx, code: str) -> str:
    return call(ctx.helper("uint64_key"), code)


@TABLE.op("BitwiseNot")
def bitwise_not(ctx: Ctx) -> str:
    elem = ctx.elem(0)
    if elem in SIGNED_VIEW:  # the same bits flipped through the signed type of that width
        return f"torch.bitwise_not({ctx.x(0)}.view({SIGNED_VIEW[elem]})).view({ctx.dtype(elem)})"
    return call("torch.bitwise_not", ctx.x(0))


def _operands(ctx: Ctx) -> tuple[str, str]:
    """Both operands; a one-element constant becomes a Python literal where that is exact."""
    a = ctx.scalar_or_x(0, ctx.rank(1))
    b = ctx.x(1) if _is_literal(a) else ctx.scalar_or_x(1, ctx.rank(0))
    return a, b


def _is_literal(code: str) -> bool:
    return not (code.startswith("self.") or code.isidentifier())


@TABLE.op(*BINARY_OPERATORS)
def binary(ctx: Ctx) -> str:
    op = BINARY_OPERATORS[ctx.node.op_type]
    elem = ctx.elem(0)
    if op != "*" and elem in WIDENED:
        return f"({_wide(ctx.x(0))} {op} {_wide(ctx.x(1))}).to({WIDENED[elem]})"
    if op != "*" and elem == ir.UINT64:
        return f"({_bits(ctx.x(0))} {op} {_bits(ctx.x(1))}).view(torch.uint64)"
    a, b = _operands(ctx)
    return f"{a} {op} {b}"


@TABLE.op("Div")
def div(ctx: Ctx) -> str:
    elem = ctx.elem(0)
    if elem in WIDENED:
        return f"{call('torch.div', _wide(ctx.x(0)), _wide(ctx.x(1)), rounding_mode='trunc')}.to({WIDENED[elem]})"
    if elem == ir.UINT64:
        return f"{call(ctx.helper('uint64_divmod'), ctx.x(0), ctx.x(1))}[0]"
    a, b = _operands(ctx)
    if is_float(elem):
        return f"{a} / {b}"
    return call("torch.div", a, b, rounding_mode="trunc")


@TABLE.op("Mod")
def mod(ctx: Ctx) -> str:
    # fmod=1: the sign of the dividend (C fmod); fmod=0: the sign of the divisor (Python %)
    fn = "torch.fmod" if ctx.attr("fmod", 0) else "torch.remainder"
    elem = ctx.elem(0)
    if elem in WIDENED:  # unsigned: both rules agree
        return f"{call(fn, _wide(ctx.x(0)), _wide(ctx.x(1)))}.to({WIDENED[elem]})"
    if elem == ir.UINT64:
        return f"{call(ctx.helper('uint64_divmod'), ctx.x(0), ctx.x(1))}[1]"
    a, b = _operands(ctx)
    if _is_literal(a):
        a = ctx.x(0)  # torch.fmod/remainder take a tensor first
    return call(fn, a, b)


@TABLE.op(*COMPARISONS)
def compare(ctx: Ctx) -> str:
    op = COMPARISONS[ctx.node.op_type]
    elem = ctx.elem(0)
    if op != "==" and elem in WIDENED:
        return f"{_wide(ctx.x(0))} {op} {_wide(ctx.x(1))}"
    if op != "==" and elem == ir.UINT64:
        return f"{_uint64_key(ctx, ctx.x(0))} {op} {_uint64_key(ctx, ctx.x(1))}"
    a, b = _operands(ctx)
    return f"{a} {op} {b}"


@TABLE.op(*LOGICAL)
def logical(ctx: Ctx) -> str:
    return call(LOGICAL[ctx.node.op_type], ctx.x(0), ctx.x(1))


@TABLE.op(*BITWISE)
def bitwise(ctx: Ctx) -> str:
    return call(BITWISE[ctx.node.op_type], ctx.x(0), ctx.x(1))


@TABLE.op("BitShift")
def bit_shift(ctx: Ctx) -> str:
    # PyTorch's shifts already give ONNX's results for shift amounts outside [0, bits)
    direction = ctx.attr("direction", "")
    if direction not in ("LEFT", "RIGHT"):
        raise UnsupportedOp(f"BitShift direction {direction!r}")
    op = "<<" if direction == "LEFT" else ">>"
    elem = ctx.elem(0)
    x, y = ctx.x(0), ctx.x(1)
    if elem in WIDENED:
        return f"({_wide(x)} {op} {_wide(y)}).to({WIDENED[elem]})"
    if elem == ir.UINT64:
        if op == ">>":
            return call(ctx.helper("uint64_shift_right"), x, y)
        return f"({_bits(x)} << {_bits(y)}).view(torch.uint64)"
    return f"{x} {op} {ctx.scalar_or_x(1, ctx.rank(0))}"


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
    return call("torch.clamp", f"{ctx.x(0)} * {attr_lit(ctx, alpha)} + {attr_lit(ctx, beta)}", lit(0.0), lit(1.0))


@TABLE.op("LeakyRelu")
def leaky_relu(ctx: Ctx) -> str:
    alpha = ctx.attr("alpha", 0.01)
    slope = attr_lit(ctx, alpha)
    return call("F.leaky_relu", ctx.x(0)) if slope == "0.01" else call("F.leaky_relu", ctx.x(0), slope)


@TABLE.op("Elu")
def elu(ctx: Ctx) -> str:
    alpha = ctx.attr("alpha", 1.0)
    return call("F.elu", ctx.x(0), attr_lit(ctx, alpha)) if alpha != 1.0 else call("F.elu", ctx.x(0))


@TABLE.op("Softplus")
def softplus(ctx: Ctx) -> str:
    return call("F.softplus", ctx.x(0))


@TABLE.op("Max", "Min", "Sum", "Mean")
def variadic(ctx: Ctx) -> str:
    op = ctx.node.op_type
    xs = [ctx.x(i) for i in range(ctx.n_in)]
    if len(xs) == 1:
        return xs[0]
    elem = ctx.out_elem(0)
    if elem == ir.UINT64 and op in ("Max", "Min"):
        cmp = ">=" if op == "Max" else "<="
        expr = xs[0]
        for x in xs[1:]:
            expr = f"torch.where({_uint64_key(ctx, expr)} {cmp} {_uint64_key(ctx, x)}, {expr}, {x})"
        return expr
    if elem == ir.UINT64 and op == "Sum":
        return f"({' + '.join(_bits(x) for x in xs)}).view(torch.uint64)"
    back = WIDENED.get(elem)
    if back:
        xs = [_wide(x) for x in xs]
    fn = {"Max": "torch.maximum", "Min": "torch.minimum"}.get(op)
    if fn:
        expr = xs[0]
        for x in xs[1:]:
            expr = call(fn, expr, x)
    else:
        expr = " + ".join(xs)
        expr = f"({expr}) / {len(xs)}" if op == "Mean" else expr
    if back:
        expr = f"{expr}.to({back})" if fn else f"({expr}).to({back})"
    return expr


@TABLE.op("IsInf")
def is_inf(ctx: Ctx) -> str:
    pos, neg = ctx.attr("detect_positive", 1), ctx.attr("detect_negative", 1)
    x = ctx.x(0)
    if pos and neg:
        return call("torch.isinf", x)
    if pos:
        return call("torch.isposinf", x)
    if neg:
        return call("torch.isneginf", x)
    return call("torch.zeros_like", x, dtype=Code("torch.bool"))
