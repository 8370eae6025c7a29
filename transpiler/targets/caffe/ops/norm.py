"""BatchNormalization (inference) -> BatchNorm (mean, variance, scale factor 1) + Scale (gamma, beta).

Caffe's BatchNorm only normalises, (x - mean) / sqrt(var + eps), with its statistics stored
divided by a third blob (the moving-average scale factor, written as 1); the affine part is the
Scale layer after it, as in every Caffe model with batch norm.
"""

from __future__ import annotations

import numpy as np

from ....errors import UnsupportedOp
from ..net import Ctx
from . import TABLE


@TABLE.op("BatchNormalization")
def batch_norm(ctx: Ctx) -> str:
    if ctx.attr("training_mode", 0):
        raise UnsupportedOp("training_mode=1 (batch statistics) has no inference Caffe equivalent")
    if any(ctx.node.output(i) is not None for i in (1, 2)):
        raise UnsupportedOp("running mean/var outputs have no Caffe equivalent")
    if ctx.rank(0) < 2:
        raise UnsupportedOp("batch norm needs a channel axis")
    gamma, beta = ctx.need_const(1, "scale"), ctx.need_const(2, "B")
    mean, var = ctx.need_const(3, "input_mean"), ctx.need_const(4, "input_var")
    eps = float(ctx.attr("epsilon", 1e-5))
    bn_params: dict = {"use_global_stats": True}
    if np.float32(eps) != np.float32(1e-5):
        bn_params["eps"] = eps
    norm = str(ctx.layer("BatchNorm", [ctx.blob(0)], {"batch_norm_param": bn_params},
                         [mean.reshape(-1), var.reshape(-1), np.ones(1, np.float32)], final=False))
    return str(ctx.layer("Scale", [norm], {"scale_param": {"bias_term": True}}, [gamma.reshape(-1), beta.reshape(-1)]))
