"""Activations: `keras.ops` activations where they match ONNX exactly, else their formula."""

from __future__ import annotations


from ..context import FLOATS, Ctx, lit
from . import TABLE
from ._util import axis_of, common_perm, keras_axis, operand


def _x(ctx: Ctx) -> str:
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse(f"{ctx.node.op_type} on element type {ctx.elem(0)}")
    perm = ctx.perm(0)
    ctx.set_perm(0, perm)
    return ctx.x(0, perm)


@TABLE.op("Softmax", "LogSoftmax")
def softmax(ctx: Ctx) -> str:
    x = _x(ctx)
    rank = ctx.need_rank(0)
    if rank == 0:
        raise ctx.refuse("softmax of a scalar")
    axis = keras_axis(ctx, ctx.attr("axis", -1), rank, ctx.perm(0))
    fn = "ops.softmax" if ctx.node.op_type == "Softmax" else "ops.log_softmax"
    return f"{fn}({x}, axis={axis})" if axis != rank - 1 else f"{fn}({x})"


@TABLE.op("HardSigmoid")
def hard_sigmoid(ctx: Ctx) -> str:
    x = _x(ctx)
    alpha, beta = ctx.attr("alpha", 0.2), ctx.attr("beta", 0.5)
    return f"ops.clip({x} * {lit(alpha)} + {lit(beta)}, 0.0, 1.0)"


@TABLE.op("HardSwish")
def hard_swish(ctx: Ctx) -> str:
    return f"ops.hard_swish({_x(ctx)})"


@TABLE.op("Gelu")
def gelu(ctx: Ctx) -> str:
    approximate = ctx.attr("approximate", "none") == "tanh"
    return f"ops.gelu({_x(ctx)}, approximate={approximate})"


@TABLE.op("LeakyRelu")
def leaky_relu(ctx: Ctx) -> str:
    return f"ops.leaky_relu({_x(ctx)}, negative_slope={lit(ctx.attr('alpha', 0.01))})"


@TABLE.op("Elu")
def elu(ctx: Ctx) -> str:
    return f"ops.elu({_x(ctx)}, alpha={lit(ctx.attr('alpha', 1.0))})"


@TABLE.op("Celu")
def celu(ctx: Ctx) -> str:
    return f"ops.celu({_x(ctx)}, alpha={lit(ctx.attr('alpha', 1.0))})"


@TABLE.op("Selu")
def selu(ctx: Ctx) -> str:
    x = _x(ctx)
    alpha, gamma = ctx.attr("alpha", 1.67326319217681884765625), ctx.attr("gamma", 1.05070102214813232421875)
    return f"ops.where(ops.greater({x}, 0), {x} * {lit(gamma)}, ops.multiply(ops.exp({x}) - 1.0, {lit(alpha * gamma)}))"


@TABLE.op("ThresholdedRelu")
def thresholded_relu(ctx: Ctx) -> str:
    x = _x(ctx)
    return f"ops.where(ops.greater({x}, {lit(ctx.attr('alpha', 1.0))}), {x}, ops.zeros_like({x}))"


@TABLE.op("Softplus")
def softplus(ctx: Ctx) -> str:
    return f"ops.softplus({_x(ctx)})"


@TABLE.op("Mish")
def mish(ctx: Ctx) -> str:
    x = _x(ctx)
    return f"{x} * ops.tanh(ops.softplus({x}))"


@TABLE.op("Shrink")
def shrink(ctx: Ctx) -> str:
    x = _x(ctx)
    bias, lambd = lit(ctx.attr("bias", 0.0)), lit(ctx.attr("lambd", 0.5))
    return (
        f"ops.where(ops.less({x}, -{lambd}), {x} + {bias}, "
        f"ops.where(ops.greater({x}, {lambd}), {x} - {bias}, ops.zeros_like({x})))"
    )


@TABLE.op("PRelu")
def prelu(ctx: Ctx) -> str:
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("PRelu on integers")
    perm = common_perm(ctx, [0, 1])
    ctx.set_perm(0, perm)
    x, slope = operand(ctx, 0, perm), operand(ctx, 1, perm)
    return f"ops.where(ops.less({x}, 0), {x} * {slope}, {x})"


@TABLE.op("Swish")
def swish(ctx: Ctx) -> str:
    x = _x(ctx)
    alpha = ctx.attr("alpha", 1.0)
    return f"ops.silu({x})" if alpha == 1.0 else f"{x} * ops.sigmoid({x} * {lit(alpha)})"


@TABLE.op("Hardmax")
def hardmax(ctx: Ctx) -> str:
    x = ctx.x(0)
    rank = ctx.need_rank(0)
    axis = axis_of(ctx, ctx.attr("axis", -1), rank)
    n = ctx.static_shape(0)[axis]
    hot = f"ops.one_hot(ops.argmax({x}, axis={axis}), {n}, dtype={lit(ctx.dtype(ctx.elem(0)))})"
    return hot if axis == rank - 1 else f"ops.moveaxis({hot}, -1, {axis})"
