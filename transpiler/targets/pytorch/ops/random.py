"""Random sampling: Bernoulli, RandomUniform(Like), RandomNormal(Like), Multinomial.

ONNX fixes the distributions, not the generator, so these are exact as distributions; no two
runtimes draw the same numbers. A `seed` attribute becomes a `torch.Generator` seeded once in
`__init__`, so a loaded model draws the same sequence every time.
"""

from __future__ import annotations

import numpy as np

from .... import ir
from ..context import Code, Ctx, call, lit
from . import TABLE


def _f32(v: float) -> float:
    return float(str(np.float32(v)))


def _generator(ctx: Ctx) -> dict[str, Code]:
    seed = ctx.attr("seed")
    if seed is None:
        return {}
    return {"generator": Code(ctx.module(f"torch.Generator().manual_seed({int(seed)})", hint="generator"))}


def _dtype_kw(ctx: Ctx, default_elem: int) -> dict[str, Code]:
    """`dtype=` when the `dtype` attribute asks for another type than `default_elem`."""
    elem = ctx.attr("dtype")
    return {"dtype": Code(ctx.dtype(int(elem)))} if elem is not None and elem != default_elem else {}


@TABLE.op("Bernoulli")
def bernoulli(ctx: Ctx) -> str:
    out = call("torch.bernoulli", ctx.x(0), **_generator(ctx))
    elem = ctx.attr("dtype")
    return f"{out}.to({ctx.dtype(int(elem))})" if elem is not None and elem != ctx.elem(0) else out


def _fill(ctx: Ctx, empty: str, method: str, a: float, b: float, plain: str) -> str:
    """`plain` (torch.rand_like(x), ...) for the standard distribution without a seed, else
    `empty.method(a, b)` on a fresh tensor."""
    gen = _generator(ctx)
    if not gen and (a, b) == ((0.0, 1.0)):
        return plain
    return call(f"{empty}.{method}", lit(a), lit(b), **gen)


@TABLE.op("RandomUniformLike", "RandomNormalLike")
def random_like(ctx: Ctx) -> str:
    kw = _dtype_kw(ctx, ctx.elem(0))
    x = ctx.x(0)
    if ctx.node.op_type == "RandomUniformLike":
        low, high = _f32(ctx.attr("low", 0.0)), _f32(ctx.attr("high", 1.0))
        return _fill(ctx, call("torch.empty_like", x, **kw), "uniform_", low, high, call("torch.rand_like", x, **kw))
    mean, scale = _f32(ctx.attr("mean", 0.0)), _f32(ctx.attr("scale", 1.0))
    return _fill(ctx, call("torch.empty_like", x, **kw), "normal_", mean, scale, call("torch.randn_like", x, **kw))


@TABLE.op("RandomUniform", "RandomNormal")
def random(ctx: Ctx) -> str:
    shape = lit(tuple(int(d) for d in ctx.attr("shape")))
    kw = _dtype_kw(ctx, ir.FLOAT)
    if ctx.node.op_type == "RandomUniform":
        low, high = _f32(ctx.attr("low", 0.0)), _f32(ctx.attr("high", 1.0))
        return _fill(ctx, call("torch.empty", shape, **kw), "uniform_", low, high, call("torch.rand", shape, **kw))
    mean, scale = _f32(ctx.attr("mean", 0.0)), _f32(ctx.attr("scale", 1.0))
    return _fill(ctx, call("torch.empty", shape, **kw), "normal_", mean, scale, call("torch.randn", shape, **kw))


@TABLE.op("Multinomial")
def multinomial(ctx: Ctx) -> str:
    # the input holds unnormalized log-probabilities; draws are with replacement
    n = int(ctx.attr("sample_size", 1))
    out = call("torch.multinomial", f"{ctx.x(0)}.softmax(-1)", lit(n), replacement=True, **_generator(ctx))
    elem = int(ctx.attr("dtype", ir.INT32))
    return out if elem == ir.INT64 else f"{out}.to({ctx.dtype(elem)})"
