"""Element-wise activations and Softmax.

BVLC layers where BVLC has them (ReLU, PReLU, Sigmoid, TanH, ELU, Exp, Log, AbsVal, BNLL for
Softplus, Power for Neg/Sqrt/Reciprocal, Softmax). ReLU6, HardSwish, Mish and Gelu are not BVLC layers: they are written under the type
names of the Caffe readers that have them (OpenCV's dnn, the verifier here), without parameters.
"""

from __future__ import annotations

import numpy as np

from ....errors import UnsupportedOp
from ..net import Ctx, axis_of
from . import TABLE

_PLAIN = {"Relu": "ReLU", "Sigmoid": "Sigmoid", "Tanh": "TanH", "HardSwish": "HardSwish", "Mish": "Mish",
          "Abs": "AbsVal", "Exp": "Exp", "Log": "Log", "Softplus": "BNLL"}
# y = x ** power, as Caffe's Power layer
_POWERS = {"Neg": {"scale": -1.0}, "Sqrt": {"power": 0.5}, "Reciprocal": {"power": -1.0}}


@TABLE.op(*_PLAIN)
def plain(ctx: Ctx) -> str:
    return str(ctx.layer(_PLAIN[ctx.node.op_type], [ctx.blob(0)]))


@TABLE.op(*_POWERS)
def power_of(ctx: Ctx) -> str:
    return str(ctx.layer("Power", [ctx.blob(0)], {"power_param": dict(_POWERS[ctx.node.op_type])}))


@TABLE.op("Selu")
def selu(ctx: Ctx) -> str:
    """gamma * ELU_alpha(x): ELU, then Power's scale."""
    alpha = float(ctx.attr("alpha", 1.67326319217681884765625))
    gamma = float(ctx.attr("gamma", 1.05070102214813232421875))
    elu_top = str(ctx.layer("ELU", [ctx.blob(0)], {"elu_param": {"alpha": alpha}}, final=False))
    return str(ctx.layer("Power", [elu_top], {"power_param": {"scale": gamma}}))


@TABLE.op("LeakyRelu")
def leaky_relu(ctx: Ctx) -> str:
    return str(ctx.layer("ReLU", [ctx.blob(0)], {"relu_param": {"negative_slope": float(ctx.attr("alpha", 0.01))}}))


@TABLE.op("Elu")
def elu(ctx: Ctx) -> str:
    alpha = float(ctx.attr("alpha", 1.0))
    params = {} if alpha == 1.0 else {"elu_param": {"alpha": alpha}}
    return str(ctx.layer("ELU", [ctx.blob(0)], params))


@TABLE.op("PRelu")
def prelu(ctx: Ctx) -> str:
    slope = ctx.need_const(1, "the slope")
    rank = ctx.rank(0)
    if slope.size == 1:
        return str(ctx.layer("PReLU", [ctx.blob(0)], {"prelu_param": {"channel_shared": True}}, [slope.reshape(1)]))
    channels = ctx.shape(0)[1]
    # a per-channel slope, broadcast from the channel axis (shape (C,), (C,1,1), (1,C,1,1), ...)
    squeezed = [d for d in slope.shape if d != 1]
    trailing = slope.shape[-(rank - 2):] if rank > 2 else ()
    if squeezed != [channels] or any(d != 1 for d in trailing) or slope.ndim > rank:
        raise UnsupportedOp(f"a slope of shape {list(slope.shape)} is not per channel")
    return str(ctx.layer("PReLU", [ctx.blob(0)], {}, [slope.reshape(-1)]))


@TABLE.op("HardSigmoid")
def hard_sigmoid(ctx: Ctx) -> str:
    """max(0, min(1, a*x + b)) = ReLU6(6a*x + 6b) / 6: Power, ReLU6, Power."""
    alpha, beta = float(ctx.attr("alpha", 0.2)), float(ctx.attr("beta", 0.5))
    pre = str(ctx.layer("Power", [ctx.blob(0)], {"power_param": {"scale": 6 * alpha, "shift": 6 * beta}}, final=False))
    clipped = str(ctx.layer("ReLU6", [pre], final=False))
    return str(ctx.layer("Power", [clipped], {"power_param": {"scale": 1 / 6}}))


@TABLE.op("Gelu")
def gelu(ctx: Ctx) -> str:
    if ctx.attr("approximate", "none") not in ("none", b"none"):
        raise UnsupportedOp("the tanh approximation of GELU has no Caffe layer")
    return str(ctx.layer("Gelu", [ctx.blob(0)]))


@TABLE.op("Clip")
def clip(ctx: Ctx) -> str:
    lo = ctx.const(1) if ctx.input(1) is not None else np.float32(-np.inf)
    hi = ctx.const(2) if ctx.input(2) is not None else np.float32(np.inf)
    if lo is None or hi is None:
        raise UnsupportedOp("min/max must be constants")
    lo, hi = float(np.asarray(lo).reshape(())), float(np.asarray(hi).reshape(()))
    if lo == 0.0 and hi == 6.0:
        return str(ctx.layer("ReLU6", [ctx.blob(0)]))
    if lo == 0.0 and hi == np.inf:
        return str(ctx.layer("ReLU", [ctx.blob(0)]))
    raise UnsupportedOp(f"Clip to [{lo}, {hi}]: Caffe has ReLU (0, inf) and ReLU6 (0, 6) only")


@TABLE.op("Softmax")
def softmax(ctx: Ctx) -> str:
    axis = axis_of(int(ctx.attr("axis", -1)), ctx.rank(0))
    params = {} if axis == 1 else {"softmax_param": {"axis": axis}}
    return str(ctx.layer("Softmax", [ctx.blob(0)], params))


@TABLE.op("Identity", "Dropout")
def passthrough(ctx: Ctx) -> str:
    """Inference: Dropout is the identity (its mask output must be unused)."""
    if ctx.node.op_type == "Dropout":
        if ctx.node.output(1) is not None:
            raise UnsupportedOp("the mask output of Dropout has no Caffe equivalent")
        if ctx.input(2) is not None and (ctx.const(2) is None or bool(np.asarray(ctx.const(2)).reshape(()))):
            raise UnsupportedOp("training_mode=True dropout is random")
    return ctx.blob(0)
