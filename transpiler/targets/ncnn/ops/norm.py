"""BatchNormalization -> BatchNorm, LayerNormalization (last axis) -> LayerNorm."""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..builder import Builder, float_data
from ..net import Weight
from . import TABLE


@TABLE.op("BatchNormalization")
def batch_norm(b: Builder, node: ir.Node) -> None:
    x = node.input(0)
    if any(v is not None and b.users.get(id(v)) for v in node.outputs[1:]):
        raise UnsupportedOp("training mode (running statistics outputs)")
    if int(node.attr("training_mode", 0)):
        raise UnsupportedOp("training mode")
    params = [node.input(i) for i in range(1, 5)]
    if any(p is None or p.const is None for p in params):
        raise UnsupportedOp("scale/bias/mean/var that are not constants")
    shape = b.shape(x)
    if len(shape) < 2 or shape[0] != 1:
        raise UnsupportedOp(f"input shape {list(shape)}: ncnn normalises channels of batch 1")
    scale, bias, mean, var = (float_data(p.const, "a parameter").reshape(-1) for p in params)
    c = shape[1]
    n = b.nshape(x)
    view = (c,) + tuple(shape[2:]) if len(shape) > 2 else (c,)
    weights = [Weight(w, flagged=False) for w in (scale, mean, var, bias)]
    blob = b.layer1("BatchNorm", [b.view(x, view)], view, {0: c, 1: float(node.attr("epsilon", 1e-5))}, weights)
    del n
    b.bind(node.outputs[0], blob, shape)


@TABLE.op("LayerNormalization")
def layer_norm(b: Builder, node: ir.Node) -> None:
    x, scale, bias = node.input(0), node.input(1), node.input(2)
    if any(v is not None and b.users.get(id(v)) for v in node.outputs[1:]):
        raise UnsupportedOp("the mean / inverse std outputs")
    shape = b.shape(x)
    axis = int(node.attr("axis", -1)) % len(shape)
    if axis != len(shape) - 1:
        raise UnsupportedOp("normalisation over more than the last axis")
    if scale is None or scale.const is None or (bias is not None and bias.const is None):
        raise UnsupportedOp("scale/bias that are not constants")
    d = shape[-1]
    gamma = np.broadcast_to(float_data(scale.const, "the scale"), (d,))
    beta = np.broadcast_to(float_data(bias.const, "the bias"), (d,)) if bias is not None else np.zeros(d, np.float32)
    rows = int(np.prod(shape[:-1], dtype=np.int64))
    view = (rows, d) if rows > 1 else (d,)
    params = {0: d, 1: float(node.attr("epsilon", 1e-5)), 2: 1}
    blob = b.layer1("LayerNorm", [b.view(x, view)], view, params, [Weight(np.array(gamma), False), Weight(np.array(beta), False)])
    b.bind(node.outputs[0], blob, shape)
