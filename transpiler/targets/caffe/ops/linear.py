"""Gemm / MatMul with a constant weight -> InnerProduct.

Caffe's InnerProduct computes x @ W.T with W stored (num_output, K): Gemm's B is stored that way
when transB=1 and is transposed (a copy, no arithmetic) when transB=0. alpha and beta are folded
into the weight and bias.
"""

from __future__ import annotations

import numpy as np

from ....errors import UnsupportedOp
from ..net import Ctx
from . import TABLE


@TABLE.op("Gemm")
def gemm(ctx: Ctx) -> str:
    if ctx.attr("transA", 0):
        raise UnsupportedOp("transA=1: Caffe's InnerProduct takes its input untransposed")
    b = ctx.need_const(1, "B")
    w = b if ctx.attr("transB", 0) else b.T
    n = w.shape[0]
    alpha, beta = float(ctx.attr("alpha", 1.0)), float(ctx.attr("beta", 1.0))
    if alpha != 1.0:
        w = w * np.float32(alpha)
    blobs = [np.ascontiguousarray(w)]
    params: dict = {"num_output": int(n)}
    if ctx.input(2) is not None:
        c = ctx.need_const(2, "C")
        if c.size not in (1, n) or (c.ndim == 2 and c.shape[0] != 1):
            raise UnsupportedOp(f"C of shape {list(c.shape)} is not a bias of the {n} outputs")
        bias = np.broadcast_to(c.reshape(-1), (n,)).astype(np.float32)
        if beta != 1.0:
            bias = bias * np.float32(beta)
        blobs.append(bias)
    else:
        params["bias_term"] = False
    return str(ctx.layer("InnerProduct", [ctx.blob(0)], {"inner_product_param": params}, blobs))


@TABLE.op("MatMul")
def matmul(ctx: Ctx) -> str:
    b = ctx.const(1)
    if b is None or b.ndim != 2:
        raise UnsupportedOp("only a product with a constant 2-D matrix maps to InnerProduct")
    rank = ctx.rank(0)
    if rank < 2:
        raise UnsupportedOp("a vector input has no InnerProduct axis")
    params: dict = {"num_output": int(b.shape[1]), "bias_term": False}
    if rank != 2:
        params["axis"] = rank - 1
    return str(ctx.layer("InnerProduct", [ctx.blob(0)], {"inner_product_param": params}, [np.ascontiguousarray(b.T)]))
