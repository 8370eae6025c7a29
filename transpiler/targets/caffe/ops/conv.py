"""Conv -> Convolution, ConvTranspose -> Deconvolution (2-D; groups and dilation kept).

Asymmetric ONNX pads become Caffe's symmetric pad plus a Slice that cuts the extra rows/columns
off (see windows.py); pads that would shift the windows off ONNX's grid are refused.
"""

from __future__ import annotations

import numpy as np

from ....errors import UnsupportedOp
from ..net import Ctx
from ..windows import fit_axis
from . import TABLE
from ._util import crop, hw, resolve_pads, spatial_2d


@TABLE.op("Conv")
def conv(ctx: Ctx) -> str:
    spatial_2d(ctx, "convolution")
    w = ctx.need_const(1, "the weight")
    bias = ctx.const(2) if ctx.input(2) is not None else None
    if ctx.input(2) is not None and bias is None:
        raise UnsupportedOp("the bias must be a constant")
    kernel = list(ctx.attr("kernel_shape") or w.shape[2:])
    strides = list(ctx.attr("strides") or [1, 1])
    dil = list(ctx.attr("dilations") or [1, 1])
    group = int(ctx.attr("group", 1))
    pads = resolve_pads(ctx, kernel, strides, dil)
    shape, out = ctx.shape(0), ctx.out_shape(0)
    fits = [
        fit_axis(shape[2 + i], (kernel[i] - 1) * dil[i] + 1, strides[i], pads[i], pads[2 + i], out[2 + i],
                 pooling=False, axis="HW"[i])
        for i in range(2)
    ]
    params: dict = {"num_output": int(w.shape[0])}
    if bias is None:
        params["bias_term"] = False
    hw(params, "pad", [f.pad for f in fits], 0)
    hw(params, "kernel", kernel, None)
    hw(params, "stride", strides, 1)
    if dil != [1, 1]:
        params["dilation"] = dil if dil[0] != dil[1] else [dil[0]]
    if group != 1:
        params["group"] = group
    blobs = [w] if bias is None else [w, bias.reshape(-1)]
    return _place(ctx, "Convolution", params, blobs, fits, out)


@TABLE.op("ConvTranspose")
def conv_transpose(ctx: Ctx) -> str:
    spatial_2d(ctx, "deconvolution")
    w = ctx.need_const(1, "the weight")
    bias = ctx.const(2) if ctx.input(2) is not None else None
    if ctx.input(2) is not None and bias is None:
        raise UnsupportedOp("the bias must be a constant")
    if ctx.attr("output_shape") is not None or ctx.attr("auto_pad", "NOTSET") not in ("NOTSET", "VALID", b"NOTSET", b"VALID"):
        raise UnsupportedOp("output_shape / SAME auto_pad: give explicit pads instead")
    kernel = list(ctx.attr("kernel_shape") or w.shape[2:])
    strides = list(ctx.attr("strides") or [1, 1])
    dil = list(ctx.attr("dilations") or [1, 1])
    group = int(ctx.attr("group", 1))
    pads = list(ctx.attr("pads") or [0, 0, 0, 0])
    out_pad = list(ctx.attr("output_padding") or [0, 0])
    shape, out = ctx.shape(0), ctx.out_shape(0)
    # The full transposed convolution has (H-1)*s + dk rows; ONNX drops pb at the top and
    # pe - output_padding at the bottom. Caffe drops `pad` on both sides; the rest is sliced.
    fits = []
    for i in range(2):
        full = (shape[2 + i] - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1
        pb, pe = pads[i], pads[2 + i] - out_pad[i]
        if pe < 0:
            raise UnsupportedOp("output_padding beyond the padding adds rows Caffe's Deconvolution cannot produce")
        p = min(pb, pe)
        caffe_out = full - 2 * p
        fits.append((p, pb - p, caffe_out))
        if pb - p + out[2 + i] > caffe_out:
            raise UnsupportedOp("the output is larger than Caffe's Deconvolution computes")
    params: dict = {"num_output": int(w.shape[1]) * group}
    if bias is None:
        params["bias_term"] = False
    hw(params, "pad", [f[0] for f in fits], 0)
    hw(params, "kernel", kernel, None)
    hw(params, "stride", strides, 1)
    if dil != [1, 1]:
        params["dilation"] = dil if dil[0] != dil[1] else [dil[0]]
    if group != 1:
        params["group"] = group
    blobs = [w] if bias is None else [w, bias.reshape(-1)]
    crops = [(f[1], f[2]) for f in fits]
    return _place_crops(ctx, "Deconvolution", params, blobs, crops, out)


def _place(ctx: Ctx, type_: str, params: dict, blobs: list[np.ndarray], fits: list, out: tuple[int, ...]) -> str:
    return _place_crops(ctx, type_, params, blobs, [(f.offset, f.caffe_out) for f in fits], out)


def _place_crops(ctx: Ctx, type_: str, params: dict, blobs: list[np.ndarray], crops: list[tuple[int, int]],
                 out: tuple[int, ...]) -> str:
    """The layer, then a Slice per spatial axis whose windows ONNX does not keep."""
    cropped = [i for i, (offset, got) in enumerate(crops) if offset != 0 or got != out[2 + i]]
    key = "convolution_param"
    top = ctx.layer(type_, [ctx.blob(0)], {key: params}, blobs, final=not cropped)
    for n, i in enumerate(cropped):
        offset, got = crops[i]
        top = crop(ctx, str(top), 2 + i, offset, out[2 + i], got, final=n == len(cropped) - 1)
    return str(top)
