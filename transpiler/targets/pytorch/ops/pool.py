"""Pooling: MaxPool, AveragePool, global pooling."""

from __future__ import annotations


from ....errors import UnsupportedOp
from ..context import Ctx, call, lit
from . import TABLE
from ._util import pad_input, compact, spatial_pads, torch_pad_arg


def _pool_common(ctx: Ctx) -> tuple[int, list[int], list[int], list[int], list[int]]:
    kernel = ctx.attr("kernel_shape")
    if kernel is None:
        raise UnsupportedOp("kernel_shape is required")
    n = len(kernel)
    if n not in (1, 2, 3):
        raise UnsupportedOp(f"{n}-D pooling has no PyTorch function")
    strides = ctx.attr("strides") or [1] * n
    dil = ctx.attr("dilations") or [1] * n
    pads = spatial_pads(ctx, kernel, strides, dil)
    return n, list(kernel), list(strides), list(dil), pads


@TABLE.op("MaxPool")
def max_pool(ctx: Ctx) -> str:
    if ctx.has_out(1):
        raise UnsupportedOp("MaxPool's Indices output is not supported")
    n, kernel, strides, dil, pads = _pool_common(ctx)
    x, padding = pad_input(ctx, ctx.x(0), pads, value=float("-inf"))
    if isinstance(padding, tuple) or padding:
        p = padding if isinstance(padding, tuple) else (padding,) * n
        if any(2 * pi > ki for pi, ki in zip(p, kernel)):
            padded = ctx.tmp("padded")
            ctx.stmt(f"{padded} = {call('F.pad', x, lit(torch_pad_arg(list(p) * 2)), value=float('-inf'))}")
            x, padding = padded, 0
    kwargs: dict = {}
    kwargs["stride"] = compact(strides)
    if padding != 0:
        kwargs["padding"] = padding
    if compact(dil) != 1:
        kwargs["dilation"] = compact(dil)
    if ctx.attr("ceil_mode", 0):
        kwargs["ceil_mode"] = True
    return call(f"F.max_pool{n}d", x, lit(compact(kernel)), **kwargs)


@TABLE.op("AveragePool")
def avg_pool(ctx: Ctx) -> str:
    n, kernel, strides, dil, pads = _pool_common(ctx)
    if compact(dil) != 1:
        raise UnsupportedOp("dilated average pooling has no PyTorch function")
    include_pad = bool(ctx.attr("count_include_pad", 0))
    begins, ends = pads[:n], pads[n:]
    if begins != ends or any(2 * p > k for p, k in zip(begins, kernel)):
        if not include_pad and any(pads):
            raise UnsupportedOp("asymmetric padding with count_include_pad=0 is not supported")
        x, padding = pad_input(ctx, ctx.x(0), pads)
        if padding != 0:
            padded = ctx.tmp("padded")
            ctx.stmt(f"{padded} = {call('F.pad', x, lit(torch_pad_arg(pads)))}")
            x, padding = padded, 0
    else:
        x, padding = ctx.x(0), compact(begins)
    kwargs: dict = {"stride": compact(strides)}
    if padding != 0:
        kwargs["padding"] = padding
    if ctx.attr("ceil_mode", 0):
        kwargs["ceil_mode"] = True
    if padding != 0 and not include_pad:
        kwargs["count_include_pad"] = False
    if n == 1 and "count_include_pad" not in kwargs and "ceil_mode" not in kwargs:
        pass
    return call(f"F.avg_pool{n}d", x, lit(compact(kernel)), **kwargs)


@TABLE.op("GlobalAveragePool", "GlobalMaxPool")
def global_pool(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    dims = tuple(range(2, rank))
    if ctx.node.op_type == "GlobalAveragePool":
        return call("torch.mean", ctx.x(0), dim=dims, keepdim=True)
    return call("torch.amax", ctx.x(0), dim=dims, keepdim=True)
