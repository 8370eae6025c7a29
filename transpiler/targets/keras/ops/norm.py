"""Normalisations: BatchNormalization and LayerNormalization as trainable Keras layers (ONNX
epsilon and momentum), the others as their formula in `keras.ops`."""

from __future__ import annotations

import numpy as np

from ..context import FLOATS, Ctx, call, lit
from ..layout import channels_last
from . import TABLE
from ._util import axis_of, keras_axis


@TABLE.op("BatchNormalization")
def batch_norm(ctx: Ctx) -> str | list[str]:
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("BatchNormalization of integers")
    rank = ctx.need_rank(0)
    if rank < 2:
        raise ctx.refuse("BatchNormalization of a rank-1 tensor")
    perm = channels_last(rank) if rank > 2 else None
    x = ctx.x(0, perm)
    ctx.set_perm(0, perm)
    if ctx.attr("training_mode", 0):
        return _batch_norm_training(ctx, x, rank)
    if any(ctx.const(i) is None for i in (1, 2, 3, 4)):
        # statistics given at run time: the inference formula on the channels-last tensor
        scale, bias, mean, var = (ctx.x(i) for i in (1, 2, 3, 4))
        eps = lit(float(ctx.attr("epsilon", 1e-5)))
        return f"ops.add(ops.multiply(({x} - {mean}) / ops.sqrt({var} + {eps}), {scale}), {bias})"
    scale, bias = ctx.need_const(1, "scale"), ctx.need_const(2, "bias")
    mean, var = ctx.need_const(3, "mean"), ctx.need_const(4, "variance")
    weights = {"gamma": scale, "beta": bias, "moving_mean": mean, "moving_variance": var}
    layer = ctx.layer(
        call("layers.BatchNormalization", epsilon=float(ctx.attr("epsilon", 1e-5)), momentum=float(ctx.attr("momentum", 0.9))),
        weights,
    )
    return f"{layer}({x})"


def _batch_norm_training(ctx: Ctx, x: str, rank: int) -> list[str]:
    """Normalised with the batch's own statistics (population variance), and the running
    statistics updated with them: ONNX's training mode, as a formula on the channels-last x."""
    axes = lit(tuple(range(rank - 1)))
    mean = ctx.assign("batch_mean", f"ops.mean({x}, axis={axes})")
    var = ctx.assign("batch_var", f"ops.var({x}, axis={axes})")
    eps = lit(float(ctx.attr("epsilon", 1e-5)))
    y = f"ops.add(ops.multiply(({x} - {mean}) / ops.sqrt({var} + {eps}), {ctx.x(1)}), {ctx.x(2)})"
    m = float(ctx.attr("momentum", 0.9))
    running_mean = f"{ctx.x(3)} * {lit(m)} + {mean} * {lit(1.0 - m)}"
    running_var = f"{ctx.x(4)} * {lit(m)} + {var} * {lit(1.0 - m)}"
    return [y, running_mean, running_var][: ctx.n_out]


@TABLE.op("LayerNormalization")
def layer_norm(ctx: Ctx) -> str | list[str]:
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("LayerNormalization of integers")
    shape = ctx.shape(0)
    rank = ctx.need_rank(0)
    axis = axis_of(ctx, ctx.attr("axis", -1), rank)
    assert shape is not None
    norm_shape = shape[axis:]
    if not all(isinstance(d, int) for d in norm_shape):
        raise ctx.refuse("the normalised dimensions must be static")
    scale = ctx.const(1)
    bias = ctx.const(2) if ctx.has(2) else None
    eps = float(ctx.attr("epsilon", 1e-5))
    x = ctx.x(0)
    axes = list(range(axis, rank))
    stats = ctx.n_out > 1 and any(ctx.has_out(j) for j in range(1, ctx.n_out))
    if scale is None or (ctx.has(2) and bias is None) or stats:
        # the formula, with statistics in float32 as ONNX's stash_type says
        dtype = ctx.dtype(ctx.elem(0))
        xs = x if dtype in ("float32", "float64") else ctx.assign("x32", f"ops.cast({x}, 'float32')")
        ax = lit(tuple(axes))
        mean = ctx.assign("mean", f"ops.mean({xs}, axis={ax}, keepdims=True)")
        inv = ctx.assign("inv_std", f"ops.rsqrt(ops.var({xs}, axis={ax}, keepdims=True) + {lit(eps)})")
        y = f"ops.multiply({xs} - {mean}, {inv})"
        if xs != x:
            y = f"ops.cast({y}, {lit(dtype)})"
        y = f"ops.multiply({y}, {ctx.x(1)})"
        if ctx.has(2):
            y = f"ops.add({y}, {ctx.x(2)})"
        return [y, mean, inv][: ctx.n_out]
    weights = {"gamma": np.broadcast_to(scale, tuple(norm_shape)).astype(scale.dtype)}
    kw: dict = {"epsilon": eps}
    if axes != [rank - 1]:
        kw["axis"] = axes
    if bias is None:
        kw["center"] = False
    else:
        weights["beta"] = np.broadcast_to(bias, tuple(norm_shape)).astype(bias.dtype)
    return f"{ctx.layer(call('layers.LayerNormalization', **kw), weights)}({x})"


@TABLE.op("InstanceNormalization")
def instance_norm(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    if rank < 3 or ctx.elem(0) not in FLOATS:
        raise ctx.refuse("InstanceNormalization needs a float tensor of rank >= 3")
    cl = channels_last(rank)
    x = ctx.x(0, cl)
    ctx.set_perm(0, cl)
    axes = tuple(range(1, rank - 1))
    mean = ctx.assign("mean", f"ops.mean({x}, axis={lit(axes)}, keepdims=True)")
    var = ctx.assign("var", f"ops.var({x}, axis={lit(axes)}, keepdims=True)")
    eps = lit(float(ctx.attr("epsilon", 1e-5)))
    return f"ops.add(ops.multiply(({x} - {mean}) / ops.sqrt({var} + {eps}), {ctx.x(1)}), {ctx.x(2)})"


@TABLE.op("LpNormalization")
def lp_norm(ctx: Ctx) -> str:
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("LpNormalization of integers")
    rank = ctx.need_rank(0)
    perm = ctx.perm(0)  # the norm is taken along one axis: any layout will do
    ctx.set_perm(0, perm)
    axis = keras_axis(ctx, ctx.attr("axis", -1), rank, perm)
    x = ctx.x(0, perm)
    p = ctx.attr("p", 2)
    if p == 1:
        total = f"ops.sum(ops.abs({x}), axis={axis}, keepdims=True)"
    elif p == 2:
        total = f"ops.sqrt(ops.sum(ops.square({x}), axis={axis}, keepdims=True))"
    else:
        raise ctx.refuse(f"LpNormalization with p={p}")
    norm_ = ctx.assign("norm", total)
    # a zero norm gives zeros, not 0/0 (as ONNX's reference does)
    return f"ops.where(ops.equal({norm_}, 0), ops.zeros_like({x}), {x} / {norm_})"
