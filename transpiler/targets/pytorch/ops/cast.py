"""Type conversion: Cast."""

from __future__ import annotations


from .... import ir
from ....errors import UnsupportedOp
from ..context import Ctx
from . import TABLE


@TABLE.op("Cast")
def cast(ctx: Ctx) -> str:
    to = ctx.attr("to")
    if to == ir.STRING or ctx.elem(0) == ir.STRING:
        raise UnsupportedOp("casts from or to strings have no PyTorch equivalent")
    if to == ctx.elem(0):
        return ctx.x(0)
    return f"{ctx.x(0)}.to({ctx.dtype(to)})"
