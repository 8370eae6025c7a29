"""Activations ONNX defines as functions, lowered directly to the torch.nn.functional call a
person would write (instead of the function's primitive ops): Gelu, Celu, Selu, ThresholdedRelu,
PRelu, Swish, Shrink."""

from __future__ import annotations

import math

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..context import Code, Ctx, call, lit
from . import TABLE
from ._util import is_float

# The constants of F.selu; ONNX stores them as float32 attributes.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _float_input(ctx: Ctx) -> str:
    if not is_float(ctx.elem(0)):
        raise UnsupportedOp(f"{ctx.node.op_type} of a non-float tensor")
    return ctx.x(0)


def _same_f32(a: float, b: float) -> bool:
    return bool(np.float32(a) == np.float32(b))


def attr_lit(ctx: Ctx, v: float) -> str:
    """A float attribute as a literal. ONNX stores it as float32; against a float32 tensor (where
    PyTorch rounds the scalar to float32) its shortest float32 spelling is the same value: 0.7,
    not 0.699999988079071."""
    if ctx.elem(0) == ir.FLOAT and float(np.float32(v)) == v:
        return lit(float(str(np.float32(v))))
    return lit(v)


@TABLE.op("Gelu")
def gelu(ctx: Ctx) -> str:
    approximate = ctx.attr("approximate", "none")
    if approximate not in ("none", "tanh"):
        raise UnsupportedOp(f"Gelu approximate={approximate!r}")
    x = _float_input(ctx)
    return call("F.gelu", x, approximate="tanh") if approximate == "tanh" else call("F.gelu", x)


@TABLE.op("Celu")
def celu(ctx: Ctx) -> str:
    alpha = ctx.attr("alpha", 1.0)
    x = _float_input(ctx)
    return call("F.celu", x) if alpha == 1.0 else call("F.celu", x, alpha=Code(attr_lit(ctx, alpha)))


@TABLE.op("Selu")
def selu(ctx: Ctx) -> str:
    alpha, gamma = ctx.attr("alpha", SELU_ALPHA), ctx.attr("gamma", SELU_SCALE)
    x = _float_input(ctx)
    if _same_f32(alpha, SELU_ALPHA) and _same_f32(gamma, SELU_SCALE):
        return call("F.selu", x)
    # gamma * (alpha * (exp(x) - 1)) for x <= 0, gamma * x above: a scaled ELU
    return f"{attr_lit(ctx, gamma)} * {call('F.elu', x, attr_lit(ctx, alpha))}"


@TABLE.op("ThresholdedRelu")
def thresholded_relu(ctx: Ctx) -> str:
    # y = x where x > alpha, else 0: exactly F.threshold
    return call("F.threshold", _float_input(ctx), attr_lit(ctx, ctx.attr("alpha", 1.0)), lit(0.0))


@TABLE.op("Swish")
def swish(ctx: Ctx) -> str:
    alpha = ctx.attr("alpha", 1.0)
    x = _float_input(ctx)
    if alpha == 1.0:
        return call("F.silu", x)
    return f"{x} * torch.sigmoid({attr_lit(ctx, alpha)} * {x})"


@TABLE.op("PRelu")
def prelu(ctx: Ctx) -> str:
    elem = ctx.elem(0)
    x = ctx.x(0)
    if elem in (ir.UINT32, ir.UINT64):
        return x  # nothing is negative
    slope = ctx.const(1)
    rank = ctx.rank(0)
    shape = ctx.shape(0)
    if slope is not None and elem == ir.FLOAT and rank is not None and rank >= 2 and slope.ndim <= rank:
        # a constant slope per channel (dim 1) or a single one is nn.PReLU's learnable weight
        aligned = (1,) * (rank - slope.ndim) + slope.shape
        channels = shape[1] if shape is not None else None
        per_channel = all(d == 1 for i, d in enumerate(aligned) if i != 1) and (
            aligned[1] == 1 or aligned[1] == channels
        )
        if per_channel:
            n = int(slope.size)
            m = ctx.module("nn.PReLU()" if n == 1 else f"nn.PReLU({n})", {"weight": slope.reshape(-1)})
            return f"{m}({x})"
    return f"torch.where({x} < 0, {x} * {ctx.x(1)}, {x})"


@TABLE.op("Shrink")
def shrink(ctx: Ctx) -> str:
    lambd, bias = ctx.attr("lambd", 0.5), ctx.attr("bias", 0.0)
    x = ctx.x(0)
    elem = ctx.elem(0)
    if is_float(elem):
        lam, b = attr_lit(ctx, lambd), attr_lit(ctx, bias)
        if bias == 0.0:
            return call("F.hardshrink", x) if lambd == 0.5 else call("F.hardshrink", x, lam)
        if bias == lambd:
            return call("F.softshrink", x) if lambd == 0.5 else call("F.softshrink", x, lam)
        return f"torch.where({x} < -{lam}, {x} + {b}, torch.where({x} > {lam}, {x} - {b}, 0))"
    if elem not in (ir.INT8, ir.INT16, ir.INT32, ir.INT64) or bias != int(bias):
        raise UnsupportedOp("Shrink of unsigned integers or with a fractional bias on integers")
    # on integers the float thresholds become exact integer ones
    lo, hi, b = math.ceil(-lambd), math.floor(lambd), int(bias)
    return f"torch.where({x} < {lo}, {x} + {b}, torch.where({x} > {hi}, {x} - {b}, 0))"
