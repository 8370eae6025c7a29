"""Arithmetic: Add/Sub/Mul/Div/Max/Sum, and the spatial means and maxima of ReduceMean/ReduceMax.

- computed blobs of one shape: Eltwise (SUM, PROD, MAX; Sub is SUM with coefficients 1, -1, Mean
  SUM with 1/n each, Min is -MAX of the negated inputs)
- a blob and a scalar constant: Power (y = shift + scale * x)
- a blob and a constant along some axes (per channel, ...): Scale (times a blob, or ones plus a
  bias for an addition)
- a blob to a constant scalar power: Power
- a blob times a gate over its leading axes ((N, C, 1, 1) against (N, C, H, W)): Scale with two
  bottoms
Other broadcasting between two computed blobs has no Caffe layer and is refused.
"""

from __future__ import annotations

import numpy as np

from ....errors import UnsupportedOp
from ..net import Ctx, Enum
from . import TABLE


@TABLE.op("Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean")
def binary(ctx: Ctx) -> str:
    op = ctx.node.op_type
    n = len(ctx.node.inputs)
    consts = [i for i in range(n) if ctx.const(i) is not None and ctx.input(i) is not None]
    if n == 1:  # Max/Min/Sum/Mean of one tensor is that tensor
        return ctx.blob(0)
    if not consts:
        if op == "Mul" and n == 2 and ctx.shape(0) != ctx.shape(1):
            return _broadcast_mul(ctx)
        return _eltwise(ctx, op, n)
    if n != 2 or len(consts) != 1:
        raise UnsupportedOp("an operation of constants only should have been folded")
    k = consts[0]
    x = 1 - k
    c = np.asarray(ctx.const(k), dtype=np.float64)
    out_shape = ctx.out_shape(0)
    if tuple(ctx.shape(x)) != tuple(out_shape):
        raise UnsupportedOp("the constant broadcasts the tensor to a larger shape")
    if op not in ("Add", "Sub", "Mul", "Div"):  # Max/Min/Sum/Mean with a constant
        raise UnsupportedOp(f"{op} with a constant has no Caffe layer")
    if op == "Div" and k == 0:
        raise UnsupportedOp("a constant divided by a tensor has no Caffe layer")
    # y = scale * x + shift, with scale/shift constants broadcast like c
    if op == "Add":
        scale, shift = np.ones_like(c), c
    elif op == "Mul":
        scale, shift = c, np.zeros_like(c)
    elif op == "Div":
        scale, shift = 1.0 / c, np.zeros_like(c)
    else:  # Sub
        scale, shift = (np.ones_like(c), -c) if k == 1 else (-np.ones_like(c), c)
    if c.size == 1:
        s, b = float(scale.reshape(())), float(shift.reshape(()))
        params: dict = {}
        if s != 1.0:
            params["scale"] = s
        if b != 0.0:
            params["shift"] = b
        return str(ctx.layer("Power", [ctx.blob(x)], {"power_param": params} if params else {}))
    axis, dims = _span(c.shape, out_shape)
    rank = len(out_shape)
    aligned = (1,) * (rank - c.ndim) + c.shape
    pick = (0,) * axis + (slice(None),) * dims + (0,) * (rank - axis - dims)
    scale_blob = np.broadcast_to(scale.reshape(aligned), out_shape)[pick]
    shift_blob = np.broadcast_to(shift.reshape(aligned), out_shape)[pick]
    blobs = [scale_blob]
    params = {}
    if axis != 1:
        params["axis"] = axis
    if dims != 1:
        params["num_axes"] = dims
    if np.any(shift != 0):
        params["bias_term"] = True
        blobs.append(shift_blob)
    return str(ctx.layer("Scale", [ctx.blob(x)], {"scale_param": params} if params else {}, blobs))


def _span(c_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> tuple[int, int]:
    """The axes [axis, axis + dims) a broadcast constant varies along (Caffe's Scale blob covers
    them; where the constant is broadcast inside that block, the blob repeats it)."""
    rank = len(out_shape)
    if len(c_shape) > rank:
        raise UnsupportedOp("the constant has more axes than the tensor")
    aligned = (1,) * (rank - len(c_shape)) + tuple(c_shape)
    varying = [i for i, d in enumerate(aligned) if d != 1]
    first, last = varying[0], varying[-1]
    if first == 0:
        raise UnsupportedOp("a constant that varies along the batch axis has no Caffe layer")
    return first, last - first + 1


def _broadcast_mul(ctx: Ctx) -> str:
    """x * s where s is x's shape on its leading axes and 1 after them (a squeeze-excitation
    gate, (N, C, 1, 1) against (N, C, H, W)): Scale with s as its second bottom, reshaped to
    those leading axes, as BVLC's Scale requires."""
    out = ctx.out_shape(0)
    big = [i for i in (0, 1) if tuple(ctx.shape(i)) == tuple(out)]
    if len(big) != 1:
        raise UnsupportedOp("broadcasting between two computed tensors has no Caffe layer")
    x, g = big[0], 1 - big[0]
    gate = (1,) * (len(out) - ctx.rank(g)) + tuple(ctx.shape(g))
    k = 0
    while k < len(out) and gate[k] == out[k]:
        k += 1
    if k == 0 or any(d != 1 for d in gate[k:]):
        raise UnsupportedOp("only a multiplier spanning the leading axes (N, C, 1, 1) maps to Caffe's Scale")
    flat = str(ctx.layer("Reshape", [ctx.blob(g)], {"reshape_param": {"shape": {"dim": list(out[:k])}}}, final=False))
    return str(ctx.layer("Scale", [ctx.blob(x), flat], {"scale_param": {"axis": 0}}))


def _eltwise(ctx: Ctx, op: str, n: int) -> str:
    out = ctx.out_shape(0)
    for i in range(n):
        if tuple(ctx.shape(i)) != tuple(out):
            raise UnsupportedOp("broadcasting between two computed tensors has no Caffe layer (Eltwise needs equal shapes)")
    bottoms = [ctx.blob(i) for i in range(n)]
    if op in ("Add", "Sum"):
        return str(ctx.layer("Eltwise", bottoms, {"eltwise_param": {"operation": Enum("SUM")}}))
    if op == "Sub":
        return str(ctx.layer("Eltwise", bottoms, {"eltwise_param": {"operation": Enum("SUM"), "coeff": [1.0, -1.0]}}))
    if op == "Mul":
        return str(ctx.layer("Eltwise", bottoms, {"eltwise_param": {"operation": Enum("PROD")}}))
    if op == "Max":
        return str(ctx.layer("Eltwise", bottoms, {"eltwise_param": {"operation": Enum("MAX")}}))
    if op == "Mean":
        coeff = [1.0 / n] * n
        return str(ctx.layer("Eltwise", bottoms, {"eltwise_param": {"operation": Enum("SUM"), "coeff": coeff}}))
    if op == "Min":  # min(a, b) = -max(-a, -b); negation is exact
        negated = [str(ctx.layer("Power", [b], {"power_param": {"scale": -1.0}}, final=False, role="negate"))
                   for b in bottoms]
        top = str(ctx.layer("Eltwise", negated, {"eltwise_param": {"operation": Enum("MAX")}}, final=False))
        return str(ctx.layer("Power", [top], {"power_param": {"scale": -1.0}}))
    raise UnsupportedOp(f"{op} of two computed tensors has no Caffe layer")


@TABLE.op("Pow")
def power(ctx: Ctx) -> str:
    p = ctx.const(1)
    if p is None or p.size != 1 or ctx.const(0) is not None:
        raise UnsupportedOp("only a tensor to a constant scalar power maps to Caffe's Power")
    return str(ctx.layer("Power", [ctx.blob(0)], {"power_param": {"power": float(p.reshape(()))}}))


@TABLE.op("ReduceMean", "ReduceMax")
def reduce_spatial(ctx: Ctx) -> str:
    rank = ctx.rank(0)
    axes_v = ctx.const(1) if ctx.input(1) is not None else None
    if ctx.input(1) is not None and axes_v is None:
        raise UnsupportedOp("axes must be a constant")
    axes = sorted({int(a) % rank for a in axes_v.reshape(-1)}) if axes_v is not None else list(range(rank))
    if rank != 4 or axes != [2, 3]:
        raise UnsupportedOp("only a mean/max over both spatial axes of an NCHW tensor maps to global pooling")
    kind = "AVE" if ctx.node.op_type == "ReduceMean" else "MAX"
    keep = bool(ctx.attr("keepdims", 1))
    top = str(ctx.layer("Pooling", [ctx.blob(0)], {"pooling_param": {"pool": Enum(kind), "global_pooling": True}},
                        final=keep))
    if keep:
        return top
    return str(ctx.layer("Flatten", [top]))
