"""Losses: SoftmaxCrossEntropyLoss, NegativeLogLikelihoodLoss (F.cross_entropy / F.nll_loss,
whose weighting, ignore_index and reductions match ONNX's)."""

from __future__ import annotations

from ....errors import UnsupportedOp
from .... import ir
from ..context import Code, Ctx, call
from . import TABLE


def _loss_kwargs(ctx: Ctx) -> dict:
    reduction = ctx.attr("reduction", "mean")
    if reduction not in ("none", "sum", "mean"):
        raise UnsupportedOp(f"reduction {reduction!r}")
    kwargs: dict = {}
    if ctx.has(2):
        kwargs["weight"] = Code(ctx.x(2))
    if ctx.attr("ignore_index") is not None:
        kwargs["ignore_index"] = int(ctx.attr("ignore_index"))
    if reduction != "mean":
        kwargs["reduction"] = reduction
    return kwargs


def _target(ctx: Ctx) -> str:
    # PyTorch's losses take int64 class indices only.
    return ctx.x(1) if ctx.elem(1) == ir.INT64 else f"{ctx.x(1)}.long()"


@TABLE.op("SoftmaxCrossEntropyLoss")
def softmax_cross_entropy(ctx: Ctx) -> str | list[str | None]:
    kwargs = _loss_kwargs(ctx)
    if not ctx.has_out(1):
        return call("F.cross_entropy", ctx.x(0), _target(ctx), **kwargs)
    log_prob = ctx.out_name(1)
    ctx.stmt(f"{log_prob} = F.log_softmax({ctx.x(0)}, dim=1)")
    return [call("F.nll_loss", log_prob, _target(ctx), **kwargs), log_prob]


@TABLE.op("NegativeLogLikelihoodLoss")
def nll_loss(ctx: Ctx) -> str:
    return call("F.nll_loss", ctx.x(0), _target(ctx), **_loss_kwargs(ctx))
