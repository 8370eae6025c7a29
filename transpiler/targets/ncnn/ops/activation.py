"""Activations -> ReLU, Clip, Sigmoid, HardSigmoid, HardSwish, TanH, GELU, ELU, SELU, Mish, Softplus,
Erf, PReLU; Softmax / LogSoftmax over one axis. ReLU, Clip, Sigmoid and HardSwish after a
Convolution / InnerProduct are fused into it afterwards (see ../fuse.py)."""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..builder import Builder, float_data
from ..net import Weight
from ..shapes import ncnn_axis
from . import TABLE
from .elementwise import LOG


def _same_shape(b: Builder, node: ir.Node, layer: str, params: dict | None = None) -> None:
    x = node.input(0)
    if x.elem not in ir.FLOAT_TYPES:
        raise UnsupportedOp("on a non-float tensor")
    blob = b.layer1(layer, [b.blob(x)], b.nshape(x), params or {})
    b.bind(node.outputs[0], blob, b.shape(x))


@TABLE.op("Relu")
def relu(b: Builder, node: ir.Node) -> None:
    _same_shape(b, node, "ReLU")


@TABLE.op("LeakyRelu")
def leaky_relu(b: Builder, node: ir.Node) -> None:
    _same_shape(b, node, "ReLU", {0: float(node.attr("alpha", 0.01))})


@TABLE.op("Sigmoid")
def sigmoid(b: Builder, node: ir.Node) -> None:
    _same_shape(b, node, "Sigmoid")


@TABLE.op("Tanh")
def tanh(b: Builder, node: ir.Node) -> None:
    _same_shape(b, node, "TanH")


@TABLE.op("Mish")
def mish(b: Builder, node: ir.Node) -> None:
    _same_shape(b, node, "Mish")


@TABLE.op("Softplus")
def softplus(b: Builder, node: ir.Node) -> None:
    _same_shape(b, node, "Softplus")


@TABLE.op("Erf")
def erf(b: Builder, node: ir.Node) -> None:
    _same_shape(b, node, "Erf")


@TABLE.op("Elu")
def elu(b: Builder, node: ir.Node) -> None:
    _same_shape(b, node, "ELU", {0: float(node.attr("alpha", 1.0))})


@TABLE.op("Selu")
def selu(b: Builder, node: ir.Node) -> None:
    _same_shape(b, node, "SELU", {0: float(node.attr("alpha", 1.67326319217681884765625)), 1: float(node.attr("gamma", 1.05070102214813232421875))})


@TABLE.op("HardSigmoid")
def hard_sigmoid(b: Builder, node: ir.Node) -> None:
    _same_shape(b, node, "HardSigmoid", {0: float(node.attr("alpha", 0.2)), 1: float(node.attr("beta", 0.5))})


@TABLE.op("HardSwish")
def hard_swish(b: Builder, node: ir.Node) -> None:
    _same_shape(b, node, "HardSwish", {0: 1.0 / 6.0, 1: 0.5})


@TABLE.op("Gelu")
def gelu(b: Builder, node: ir.Node) -> None:
    approx = node.attr("approximate", "none")
    if isinstance(approx, bytes):
        approx = approx.decode()
    _same_shape(b, node, "GELU", {0: 1} if approx == "tanh" else {})


@TABLE.op("Clip")
def clip(b: Builder, node: ir.Node) -> None:
    lo, hi = node.input(1), node.input(2)
    params: dict = {}
    for key, v in ((0, lo), (1, hi)):
        if v is None:
            continue
        if v.const is None:
            raise UnsupportedOp("a bound that is not a constant")
        value = float(v.const.reshape(()))
        if np.isfinite(value):
            params[key] = value
    _same_shape(b, node, "Clip", params)


@TABLE.op("PRelu")
def prelu(b: Builder, node: ir.Node) -> None:
    x, slope = node.input(0), node.input(1)
    shape = b.shape(x)
    if slope.const is None:
        raise UnsupportedOp("the slope is not a constant")
    s = slope.const
    n = b.nshape(x)
    if s.size == 1:
        data = s.reshape(1)
    elif len(shape) >= 3 and shape[0] == 1 and s.size == shape[1] and s.squeeze().shape == (shape[1],) and (
        s.ndim <= 1 or s.shape[-(len(shape) - 2):] == (1,) * (len(shape) - 2)
    ):
        data = s.reshape(-1)  # one slope per channel
    else:
        raise UnsupportedOp(f"slope of shape {list(s.shape)} (ncnn: one slope, or one per channel)")
    blob = b.layer1("PReLU", [b.blob(x)], n, {0: int(data.size)}, [Weight(float_data(data, "the slope"), flagged=False)])
    b.bind(node.outputs[0], blob, shape)


@TABLE.op("Softmax", "LogSoftmax")
def softmax(b: Builder, node: ir.Node) -> None:
    x = node.input(0)
    shape = b.shape(x)
    axis = ncnn_axis(shape, int(node.attr("axis", -1)))
    if axis is None:
        raise UnsupportedOp("softmax over the batch axis")
    n = b.nshape(x)
    blob = b.layer1("Softmax", [b.blob(x)], n, {0: axis, 1: 1})  # 1=1: the fixed axis handling
    if node.op_type == "LogSoftmax":
        blob = b.layer1("UnaryOp", [blob], n, {0: LOG}, hint=f"{node.name}_log")
    b.bind(node.outputs[0], blob, shape)
