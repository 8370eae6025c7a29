"""ONNX's training optimizers (domain ai.onnx.preview.training): one update step of Adagrad, Adam
or Momentum, written out as the element-wise formulas of the spec, once per optimized tensor."""

from __future__ import annotations

import numpy as np

from ....errors import UnsupportedOp
from ..context import Ctx, lit
from . import TABLE

DOMAIN = "ai.onnx.preview.training"


def _f32(v: float) -> str:
    """A float attribute as the shortest literal that is the same float32."""
    return lit(float(str(np.float32(v))))


def _groups(ctx: Ctx, per_tensor: int) -> int:
    """How many tensors the node optimizes: inputs are R, T, then `per_tensor` lists of them."""
    n, rem = divmod(ctx.n_in - 2, per_tensor)
    if rem or n == 0:
        raise UnsupportedOp(f"expected 2 + {per_tensor} * n inputs, got {ctx.n_in}")
    return n


def _out(ctx: Ctx, j: int, hint: str) -> str:
    """The local for output j (a temporary when the output is not used)."""
    return ctx.out_name(j) if ctx.has_out(j) else ctx.tmp(hint)


def _regularized(ctx: Ctx, x: str, g: str, norm: float) -> str:
    """The gradient with the L2 term's gradient added (norm_coefficient * X + G)."""
    if norm == 0:
        return g
    out = ctx.tmp("grad")
    ctx.stmt(f"{out} = {_f32(norm)} * {x} + {g}")
    return out


@TABLE.op("Adagrad", domain=DOMAIN)
def adagrad(ctx: Ctx) -> list[str]:
    n = _groups(ctx, 3)
    decay = ctx.attr("decay_factor", 0.0)
    eps = ctx.attr("epsilon", 0.0)
    norm = ctx.attr("norm_coefficient", 0.0)
    r, t = ctx.x(0), ctx.x(1)
    lr = r
    if decay != 0:
        lr = ctx.tmp("lr")
        ctx.stmt(f"{lr} = {r} / (1 + {t} * {_f32(decay)})")
    xs, hs = [], []
    for k in range(n):
        x, g, h = ctx.x(2 + k), ctx.x(2 + n + k), ctx.x(2 + 2 * n + k)
        grad = _regularized(ctx, x, g, norm)
        h_new = _out(ctx, n + k, "h_new")
        ctx.stmt(f"{h_new} = {h} + {grad} * {grad}")
        x_new = _out(ctx, k, "x_new")
        ctx.stmt(f"{x_new} = {x} - {lr} * {grad} / ({h_new}.sqrt() + {_f32(eps)})")
        xs.append(x_new)
        hs.append(h_new)
    return xs + hs


@TABLE.op("Momentum", domain=DOMAIN)
def momentum(ctx: Ctx) -> list[str]:
    n = _groups(ctx, 3)
    alpha, beta = ctx.attr("alpha"), ctx.attr("beta")
    mode = ctx.attr("mode", "standard")
    norm = ctx.attr("norm_coefficient", 0.0)
    if mode not in ("standard", "nesterov"):
        raise UnsupportedOp(f"mode {mode!r}")
    r, t = ctx.x(0), ctx.x(1)
    # the gradient's coefficient is 1 at the first step (T == 0)
    scaled = "{grad}"
    if np.float32(beta) != 1:
        b = ctx.tmp("beta")
        ctx.stmt(f"{b} = {_f32(beta)} if {t} > 0 else 1.0")
        scaled = b + " * {grad}"
    xs, vs = [], []
    for k in range(n):
        x, g, v = ctx.x(2 + k), ctx.x(2 + n + k), ctx.x(2 + 2 * n + k)
        grad = _regularized(ctx, x, g, norm)
        v_new = _out(ctx, n + k, "v_new")
        ctx.stmt(f"{v_new} = {_f32(alpha)} * {v} + {scaled.format(grad=grad)}")
        x_new = _out(ctx, k, "x_new")
        if mode == "standard":
            ctx.stmt(f"{x_new} = {x} - {r} * {v_new}")
        else:
            ctx.stmt(f"{x_new} = {x} - {r} * ({grad} + {_f32(alpha)} * {v_new})")
        xs.append(x_new)
        vs.append(v_new)
    return xs + vs


@TABLE.op("Adam", domain=DOMAIN)
def adam(ctx: Ctx) -> list[str]:
    n = _groups(ctx, 4)
    alpha = ctx.attr("alpha", 0.9)
    beta = ctx.attr("beta", 0.999)
    eps = ctx.attr("epsilon", 0.0)
    norm = ctx.attr("norm_coefficient", 0.0)
    post = ctx.attr("norm_coefficient_post", 0.0)
    r, t = ctx.x(0), ctx.x(1)
    a, b = _f32(alpha), _f32(beta)
    # bias correction of both moments, from the second step on
    lr = ctx.tmp("lr")
    ctx.stmt(f"{lr} = {r} * torch.sqrt(1 - {b} ** {t}) / (1 - {a} ** {t}) if {t} > 0 else {r}")
    xs, vs, hs = [], [], []
    for k in range(n):
        x, g = ctx.x(2 + k), ctx.x(2 + n + k)
        v, h = ctx.x(2 + 2 * n + k), ctx.x(2 + 3 * n + k)
        grad = _regularized(ctx, x, g, norm)
        v_new, h_new = _out(ctx, n + k, "v_new"), _out(ctx, 2 * n + k, "h_new")
        x_new = _out(ctx, k, "x_new")
        ctx.stmt(f"{v_new} = {a} * {v} + (1 - {a}) * {grad}")
        ctx.stmt(f"{h_new} = {b} * {h} + (1 - {b}) * ({grad} * {grad})")
        step = f"{x} - {lr} * ({v_new} / ({h_new}.sqrt() + {_f32(eps)}))"
        ctx.stmt(f"{x_new} = {step}" if post == 0 else f"{x_new} = (1 - {_f32(post)}) * ({step})")
        xs.append(x_new)
        vs.append(v_new)
        hs.append(h_new)
    return xs + vs + hs
