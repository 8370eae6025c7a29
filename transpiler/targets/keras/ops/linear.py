"""Matrix products: Dense layers where the weight is a constant matrix, `ops.matmul` otherwise."""

from __future__ import annotations

import numpy as np

from ..context import FLOATS, Ctx, call, lit
from . import TABLE


def _dense(ctx: Ctx, kernel: np.ndarray, bias: np.ndarray | None) -> str:
    weights = {"kernel": kernel}
    kw: dict = {}
    if bias is None:
        kw["use_bias"] = False
    else:
        weights["bias"] = bias
    layer = ctx.layer(call("layers.Dense", lit(int(kernel.shape[1])), **kw), weights)
    return f"{layer}({ctx.x(0)})"


@TABLE.op("Gemm")
def gemm(ctx: Ctx) -> str:
    alpha, beta = float(ctx.attr("alpha", 1.0)), float(ctx.attr("beta", 1.0))
    ta, tb = ctx.attr("transA", 0), ctx.attr("transB", 0)
    b = ctx.const(1)
    c = ctx.const(2) if ctx.has(2) else None
    if b is not None and not ta and alpha == 1.0 and b.ndim == 2 and ctx.elem(0) in FLOATS:
        kernel = b.T if tb else b
        n = kernel.shape[1]
        if not ctx.has(2):
            return _dense(ctx, kernel, None)
        if c is not None and beta == 1.0 and c.size in (1, n) and not (c.ndim == 2 and c.shape[0] != 1):
            return _dense(ctx, kernel, np.broadcast_to(c.reshape(-1), (n,)).astype(c.dtype))
    a = ctx.x(0)
    bb = ctx.x(1)
    if ta:
        a = f"ops.transpose({a})"
    if tb:
        bb = f"ops.transpose({bb})"
    expr = f"ops.matmul({a}, {bb})"
    if alpha != 1.0:
        expr = f"ops.multiply({expr}, {lit(alpha)})"
    if ctx.has(2):
        cc = ctx.x(2)
        expr = f"ops.add({expr}, {cc})" if beta == 1.0 else f"ops.add({expr}, ops.multiply({cc}, {lit(beta)}))"
    return expr


@TABLE.op("MatMul")
def matmul(ctx: Ctx) -> str:
    b = ctx.const(1)
    if b is not None and b.ndim == 2 and ctx.elem(0) in FLOATS and (ctx.rank(0) or 0) >= 2:
        return _dense(ctx, b, None)
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("integer MatMul (not computed exactly by every backend)")
    return f"ops.matmul({ctx.x(0)}, {ctx.x(1)})"


@TABLE.op("Linear", domain="transpiler")
def linear(ctx: Ctx) -> str:
    """transpiler::Linear (x @ W + b, fused from MatMul + Add by passes.fuse): a Dense layer."""
    w, b = ctx.const(1), ctx.const(2)
    assert w is not None and b is not None  # the fusion pass only builds it from constants
    return _dense(ctx, w, b.reshape(-1))
