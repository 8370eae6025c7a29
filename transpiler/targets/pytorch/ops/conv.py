"""Convolutions: Conv, ConvTranspose."""

from __future__ import annotations


from ....errors import UnsupportedOp
from ..context import Ctx, call, lit
from . import TABLE
from ._util import compact, conv_kwargs, pad_input, spatial_pads


@TABLE.op("Conv")
def conv(ctx: Ctx) -> str:
    w = ctx.value(1)
    if w.shape is None:
        raise UnsupportedOp("the weight's shape is unknown")
    n = len(w.shape) - 2
    if n not in (1, 2, 3):
        raise UnsupportedOp(f"{n}-D convolution has no PyTorch layer")
    kernel = ctx.attr("kernel_shape") or list(w.shape[2:])
    strides = ctx.attr("strides") or [1] * n
    dil = ctx.attr("dilations") or [1] * n
    group = ctx.attr("group", 1)
    pads = spatial_pads(ctx, kernel, strides, dil)
    x, padding = pad_input(ctx, ctx.x(0), pads)
    kwargs = conv_kwargs(strides, padding, dil, group)
    wc, bc = ctx.const(1), ctx.const(2) if ctx.has(2) else None
    if wc is not None and (not ctx.has(2) or bc is not None) and all(isinstance(d, int) for d in w.shape):
        out_ch, in_ch = int(w.shape[0]), int(w.shape[1]) * group
        params = {"weight": wc}
        if bc is not None:
            params["bias"] = bc
        else:
            kwargs["bias"] = False
        m = ctx.module(call(f"nn.Conv{n}d", lit(in_ch), lit(out_ch), lit(compact(kernel)), **kwargs), params)
        return f"{m}({x})"
    b = ctx.x(2) if ctx.has(2) else "None"
    return call(f"F.conv{n}d", x, ctx.x(1), b, **kwargs)


@TABLE.op("ConvTranspose")
def conv_transpose(ctx: Ctx) -> str:
    w = ctx.value(1)
    if w.shape is None or not all(isinstance(d, int) for d in w.shape):
        raise UnsupportedOp("the weight's shape must be static")
    n = len(w.shape) - 2
    if n not in (1, 2, 3):
        raise UnsupportedOp(f"{n}-D transposed convolution has no PyTorch layer")
    group = ctx.attr("group", 1)
    kernel = ctx.attr("kernel_shape") or list(w.shape[2:])
    strides = ctx.attr("strides") or [1] * n
    dil = ctx.attr("dilations") or [1] * n
    out_pad = ctx.attr("output_padding") or [0] * n
    pads = ctx.attr("pads") or [0] * (2 * n)
    auto = ctx.attr("auto_pad", "NOTSET")
    out_shape = ctx.attr("output_shape")
    in_shape = ctx.shape(0)
    if out_shape is not None or auto in ("SAME_UPPER", "SAME_LOWER"):
        if in_shape is None or not all(isinstance(d, int) for d in in_shape[2:]):
            raise UnsupportedOp("output_shape / SAME padding needs static spatial dimensions")
        sizes = [int(d) for d in in_shape[2:]]  # type: ignore[arg-type]
        if out_shape is None:
            out_shape = [sizes[i] * strides[i] for i in range(n)]
        out_shape = list(out_shape)[-n:]
        begins, ends = [], []
        for i in range(n):
            total = strides[i] * (sizes[i] - 1) + out_pad[i] + (kernel[i] - 1) * dil[i] + 1 - out_shape[i]
            if total < 0 and ctx.attr("output_shape") is None:
                total = 0  # SAME with a stride above the kernel: onnxruntime (and shape inference) clamp at 0
            if total < 0:
                out_pad = list(out_pad)
                out_pad[i] += -total
                total = 0
            small, big = total // 2, total - total // 2
            if auto == "SAME_LOWER":
                begins.append(big)
                ends.append(small)
            else:
                begins.append(small)
                ends.append(big)
        pads = begins + ends
    elif auto == "VALID":
        pads = [0] * (2 * n)
    begins, ends = list(pads[:n]), list(pads[n:])
    # PyTorch pads symmetrically; extra padding at the end is cropped afterwards.
    sym = [min(b, e) for b, e in zip(begins, ends)]
    crop_b = [b - s for b, s in zip(begins, sym)]
    crop_e = [e - s for e, s in zip(ends, sym)]
    kwargs: dict = {}
    if compact(strides) != 1:
        kwargs["stride"] = compact(strides)
    if compact(sym) != 0:
        kwargs["padding"] = compact(sym)
    if compact(out_pad) != 0:
        kwargs["output_padding"] = compact(out_pad)
    if group != 1:
        kwargs["groups"] = group
    if compact(dil) != 1:
        kwargs["dilation"] = compact(dil)
    wc, bc = ctx.const(1), ctx.const(2) if ctx.has(2) else None
    if wc is not None and (not ctx.has(2) or bc is not None):
        params = {"weight": wc}
        if bc is not None:
            params["bias"] = bc
        else:
            kwargs["bias"] = False
        in_ch, out_ch = int(w.shape[0]), int(w.shape[1]) * group
        m = ctx.module(call(f"nn.ConvTranspose{n}d", lit(in_ch), lit(out_ch), lit(compact(kernel)), **kwargs), params)
        y = f"{m}({ctx.x(0)})"
    else:
        b = ctx.x(2) if ctx.has(2) else "None"
        y = call(f"F.conv_transpose{n}d", ctx.x(0), ctx.x(1), b, **kwargs)
    if any(crop_b) or any(crop_e):
        idx = ", ".join([":", ":"] + [f"{b}:{(-e) if e else ''}" for b, e in zip(crop_b, crop_e)])
        y = f"{y}[{idx}]"
    return y
