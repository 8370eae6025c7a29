"""Matrix products: Gemm, MatMul."""

from __future__ import annotations

import numpy as np

from .... import ir
from ..context import Ctx, call, lit
from . import TABLE


@TABLE.op("Gemm")
def gemm(ctx: Ctx) -> str:
    alpha, beta = ctx.attr("alpha", 1.0), ctx.attr("beta", 1.0)
    ta, tb = ctx.attr("transA", 0), ctx.attr("transB", 0)
    b, c = ctx.const(1), ctx.const(2) if ctx.has(2) else None
    if b is not None and not ta and alpha == 1.0 and b.ndim == 2:
        weight = b if tb else b.T
        out_f, in_f = weight.shape
        bias = None
        if ctx.has(2):
            if c is None or beta != 1.0 or c.size not in (1, out_f) or (c.ndim == 2 and c.shape[0] != 1):
                bias = "x"
            else:
                bias = np.broadcast_to(c.reshape(-1), (out_f,)).astype(c.dtype)
        if not isinstance(bias, str):
            params = {"weight": weight}
            if bias is not None:
                params["bias"] = bias
            kwargs = {} if bias is not None else {"bias": False}
            m = ctx.module(call("nn.Linear", lit(in_f), lit(out_f), **kwargs), params)
            return f"{m}({ctx.x(0)})"
    a = ctx.x(0) + (".t()" if ta else "")
    bb = ctx.x(1) + (".t()" if tb else "")
    expr = f"{a} @ {bb}"
    if alpha != 1.0:
        expr = f"{lit(alpha)} * ({expr})"
    if ctx.has(2):
        cc = ctx.x(2)
        expr = f"{expr} + {cc}" if beta == 1.0 else f"{expr} + {lit(beta)} * {cc}"
    return expr


@TABLE.op("MatMul")
def matmul(ctx: Ctx) -> str:
    b = ctx.const(1)
    if b is not None and b.ndim == 2 and ctx.elem(0) in (ir.FLOAT, ir.DOUBLE, ir.FLOAT16, ir.BFLOAT16):
        in_f, out_f = b.shape
        m = ctx.module(call("nn.Linear", lit(int(in_f)), lit(int(out_f)), bias=False), {"weight": b.T})
        return f"{m}({ctx.x(0)})"
    return f"{ctx.x(0)} @ {ctx.x(1)}"


@TABLE.op("Linear", domain="transpiler")
def linear(ctx: Ctx) -> str:
    """transpiler::Linear (x @ W + b, fused from MatMul + Add by passes.fuse): nn.Linear."""
    w, b = ctx.const(1), ctx.const(2)
    assert w is not None and b is not None  # the fusion pass only builds it from constants
    in_f, out_f = w.shape
    m = ctx.module(call("nn.Linear", lit(int(in_f)), lit(int(out_f))), {"weight": w.T, "bias": b.reshape(-1)})
    return f"{m}({ctx.x(0)})"
