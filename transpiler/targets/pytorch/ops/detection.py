"""Detection post-processing: NonMaxSuppression (a helper; PyTorch itself has no NMS, and the
generated file must not depend on torchvision)."""

from __future__ import annotations

from ..context import Ctx, call, lit
from . import TABLE


def _scalar(ctx: Ctx, i: int, kind: type, default: int | float | None) -> str:
    """Optional scalar input i as a Python number: a literal when constant or absent."""
    if not ctx.has(i):
        return lit(default)
    c = ctx.const(i)
    if c is not None:
        return lit(kind(c.reshape(-1)[0]))
    return f"{kind.__name__}({ctx.x(i)})"


@TABLE.op("NonMaxSuppression")
def non_max_suppression(ctx: Ctx) -> str:
    fn = ctx.helper("non_max_suppression")
    args = [ctx.x(0), ctx.x(1), _scalar(ctx, 2, int, 0), _scalar(ctx, 3, float, 0.0)]
    if ctx.has(4) or ctx.attr("center_point_box", 0):
        args.append(_scalar(ctx, 4, float, None))
    if ctx.attr("center_point_box", 0):
        args.append("center_point_box=True")
    return call(fn, *args)
