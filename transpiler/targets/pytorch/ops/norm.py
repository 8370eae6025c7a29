"""Normalisation layers: BatchNormalization, LayerNormalization."""

from __future__ import annotations

import numpy as np

from ....errors import UnsupportedOp
from ..context import Ctx, call, lit
from . import TABLE
from ._util import norm_axis


@TABLE.op("BatchNormalization")
def batch_norm(ctx: Ctx) -> str:
    if ctx.attr("training_mode", 0) or ctx.attr("_non_spatial"):
        raise UnsupportedOp("training-mode / non-spatial BatchNormalization is not supported")
    if any(ctx.has_out(j) for j in range(1, ctx.n_out)):
        raise UnsupportedOp("BatchNormalization's running-statistics outputs are not supported")
    eps, momentum = ctx.attr("epsilon", 1e-5), ctx.attr("momentum", 0.9)
    rank = ctx.need_rank(0)
    consts = [ctx.const(i) for i in range(1, 5)]
    if all(c is not None for c in consts) and 2 <= rank <= 5:
        scale, bias, mean, var = consts
        dims = {2: 1, 3: 1, 4: 2, 5: 3}[rank]
        kwargs: dict = {}
        if np.float32(eps) != np.float32(1e-5):
            kwargs["eps"] = eps
        torch_momentum = round(1.0 - momentum, 6)
        if torch_momentum != 0.1:
            kwargs["momentum"] = torch_momentum
        params = {
            "weight": scale, "bias": bias, "running_mean": mean, "running_var": var,
            "num_batches_tracked": np.array(0, dtype=np.int64),
        }
        m = ctx.module(call(f"nn.BatchNorm{dims}d", lit(int(scale.shape[0])), **kwargs), params)
        return f"{m}({ctx.x(0)})"
    return call("F.batch_norm", ctx.x(0), ctx.x(3), ctx.x(4), ctx.x(1), ctx.x(2), eps=eps)


@TABLE.op("LayerNormalization")
def layer_norm(ctx: Ctx) -> str:
    if any(ctx.has_out(j) for j in range(1, ctx.n_out)):
        raise UnsupportedOp("LayerNormalization's Mean / InvStdDev outputs are not supported")
    rank = ctx.need_rank(0)
    axis = norm_axis(ctx.attr("axis", -1), rank)
    shape = ctx.shape(0)
    norm_shape = shape[axis:] if shape is not None else None
    if norm_shape is None or not all(isinstance(d, int) for d in norm_shape):
        raise UnsupportedOp("the normalised dimensions must be static")
    eps = ctx.attr("epsilon", 1e-5)
    kwargs: dict = {}
    if np.float32(eps) != np.float32(1e-5):
        kwargs["eps"] = eps
    scale, bias = ctx.const(1), ctx.const(2) if ctx.has(2) else None
    ns = tuple(int(d) for d in norm_shape)  # type: ignore[arg-type]
    if scale is not None and (not ctx.has(2) or bias is not None):
        params = {"weight": np.broadcast_to(scale, ns).copy()}
        if bias is not None:
            params["bias"] = np.broadcast_to(bias, ns).copy()
        else:
            kwargs["bias"] = False
        arg = lit(ns[0]) if len(ns) == 1 else lit(ns)
        m = ctx.module(call("nn.LayerNorm", arg, **kwargs), params)
        return f"{m}({ctx.x(0)})"
    w = f"{ctx.x(1)}.expand({lit(ns)})"
    b = f"{ctx.x(2)}.expand({lit(ns)})" if ctx.has(2) else "None"
    return call("F.layer_norm", ctx.x(0), lit(ns), w, b, eps=eps)
