"""Activations: `keras.ops` activations where they match ONNX exactly, else their formula.

Elementwise activations keep the layout of their input. Most are one line of code with the
node's float attributes filled in, so they live in a table."""

from __future__ import annotations

from ..context import FLOATS, Ctx, lit
from . import TABLE
from ._util import axis_of, common_perm, keras_axis, operand

# op -> (code with `{x}` the input, `{name}` each attribute and `{neg_name}` its negation,
#        the attributes' ONNX defaults)
FORMULAS: dict[str, tuple[str, dict[str, float]]] = {
    "HardSigmoid": ("ops.clip({x} * {alpha} + {beta}, 0.0, 1.0)", {"alpha": 0.2, "beta": 0.5}),
    "HardSwish": ("ops.hard_swish({x})", {}),
    "LeakyRelu": ("ops.leaky_relu({x}, negative_slope={alpha})", {"alpha": 0.01}),
    "Elu": ("ops.elu({x}, alpha={alpha})", {"alpha": 1.0}),
    "Celu": ("ops.celu({x}, alpha={alpha})", {"alpha": 1.0}),
    "Selu": (
        "ops.where(ops.greater({x}, 0), {x} * {gamma}, ops.multiply(ops.exp({x}) - 1.0, {alpha} * {gamma}))",
        {"alpha": 1.67326319217681884765625, "gamma": 1.05070102214813232421875},
    ),
    "ThresholdedRelu": ("ops.where(ops.greater({x}, {alpha}), {x}, ops.zeros_like({x}))", {"alpha": 1.0}),
    "Softplus": ("ops.softplus({x})", {}),
    "Mish": ("{x} * ops.tanh(ops.softplus({x}))", {}),
    "Shrink": (
        "ops.where(ops.less({x}, {neg_lambd}), {x} + {bias}, "
        "ops.where(ops.greater({x}, {lambd}), {x} - {bias}, ops.zeros_like({x})))",
        {"bias": 0.0, "lambd": 0.5},
    ),
}


def _x(ctx: Ctx) -> str:
    """Input 0 in the layout it is held in (the output keeps it); floats only."""
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse(f"{ctx.node.op_type} on element type {ctx.elem(0)}")
    perm = ctx.perm(0)
    ctx.set_perm(0, perm)
    return ctx.x(0, perm)


@TABLE.op(*FORMULAS)
def formula(ctx: Ctx) -> str:
    code, defaults = FORMULAS[ctx.node.op_type]
    values = {k: float(ctx.attr(k, v)) for k, v in defaults.items()}
    attrs = {k: lit(v) for k, v in values.items()} | {f"neg_{k}": lit(-v) for k, v in values.items()}
    return code.format(x=_x(ctx), **attrs)


@TABLE.op("Softmax", "LogSoftmax")
def softmax(ctx: Ctx) -> str:
    x = _x(ctx)
    rank = ctx.need_rank(0)
    if rank == 0:
        raise ctx.refuse("softmax of a scalar")
    axis = keras_axis(ctx, ctx.attr("axis", -1), rank, ctx.perm(0))
    fn = "ops.softmax" if ctx.node.op_type == "Softmax" else "ops.log_softmax"
    return f"{fn}({x}, axis={axis})" if axis != rank - 1 else f"{fn}({x})"


@TABLE.op("Gelu")
def gelu(ctx: Ctx) -> str:
    approximate = ctx.attr("approximate", "none") == "tanh"
    return f"ops.gelu({_x(ctx)}, approximate={approximate})"


@TABLE.op("Swish")
def swish(ctx: Ctx) -> str:
    x = _x(ctx)
    alpha = ctx.attr("alpha", 1.0)
    return f"ops.silu({x})" if alpha == 1.0 else f"{x} * ops.sigmoid({x} * {lit(alpha)})"


@TABLE.op("PRelu")
def prelu(ctx: Ctx) -> str:
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("PRelu on integers")
    perm = common_perm(ctx, [0, 1])
    ctx.set_perm(0, perm)
    x, slope = operand(ctx, 0, perm), operand(ctx, 1, perm)
    return f"ops.where(ops.less({x}, 0), {x} * {slope}, {x})"


@TABLE.op("Hardmax")
def hardmax(ctx: Ctx) -> str:
    """1 at the first maximum along the axis, 0 elsewhere."""
    x = ctx.x(0)
    rank = ctx.need_rank(0)
    axis = axis_of(ctx, ctx.attr("axis", -1), rank)
    n = ctx.static_shape(0)[axis]
    hot = f"ops.one_hot(ops.argmax({x}, axis={axis}), {n}, dtype={lit(ctx.dtype(ctx.elem(0)))})"
    return hot if axis == rank - 1 else f"ops.moveaxis({hot}, -1, {axis})"
