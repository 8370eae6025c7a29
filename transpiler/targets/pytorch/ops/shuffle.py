"""Private ops that re-fusion passes create for this target (`transpiler::*`)."""

from __future__ import annotations

from ....passes.fuse import PRIVATE_DOMAIN
from ..context import Ctx, call, lit
from . import TABLE


@TABLE.op("ChannelShuffle", domain=PRIVATE_DOMAIN)
def channel_shuffle(ctx: Ctx) -> str:
    """transpiler::ChannelShuffle (from passes/shuffle.py): groups of channels interleaved."""
    return call("F.channel_shuffle", ctx.x(0), lit(int(ctx.attr("groups"))))
