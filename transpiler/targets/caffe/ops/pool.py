"""MaxPool / AveragePool / global pooling -> Pooling (2-D).

Caffe's pooling rounds up and pads symmetrically; windows.py picks the pad and the Slice that
make Caffe's windows ONNX's. The divisor of an average differs too: Caffe divides by the window
clipped to the padded input (padding counted), ONNX by the window inside the input
(count_include_pad=0) or inside the padded input (=1). When the two differ anywhere, a Scale
layer with a constant (H, W) map `caffe_divisor / onnx_divisor` restores ONNX's average.
"""

from __future__ import annotations

import numpy as np

from ....errors import UnsupportedOp
from ..net import Ctx, Enum
from ..windows import AxisFit, fit_axis
from . import TABLE
from ._util import crop, hw, resolve_pads, spatial_2d


@TABLE.op("MaxPool", "AveragePool")
def pool(ctx: Ctx) -> str:
    spatial_2d(ctx, "pooling")
    is_max = ctx.node.op_type == "MaxPool"
    if is_max and len(ctx.node.outputs) > 1 and ctx.node.outputs[1] is not None:
        raise UnsupportedOp("the Indices output has no Caffe equivalent")
    kernel = list(ctx.attr("kernel_shape"))
    strides = list(ctx.attr("strides") or [1, 1])
    dil = list(ctx.attr("dilations") or [1, 1])
    if dil != [1, 1]:
        raise UnsupportedOp("dilated pooling has no Caffe equivalent")
    pads = resolve_pads(ctx, kernel, strides, dil)
    shape, out = ctx.shape(0), ctx.out_shape(0)
    fits = [fit_axis(shape[2 + i], kernel[i], strides[i], pads[i], pads[2 + i], out[2 + i], pooling=True, axis="HW"[i])
            for i in range(2)]
    correction = None
    if not is_max:
        include_pad = bool(ctx.attr("count_include_pad", 0))
        factors = [_divisor_ratio(shape[2 + i], kernel[i], strides[i], pads[i], pads[2 + i], fits[i], include_pad)
                   for i in range(2)]
        if not all(np.all(f == 1.0) for f in factors):
            correction = np.outer(factors[0], factors[1]).astype(np.float32)
    params: dict = {"pool": Enum("MAX" if is_max else "AVE")}
    hw(params, "kernel", kernel, None)
    hw(params, "stride", strides, 1)
    hw(params, "pad", [f.pad for f in fits], 0)
    cropped = [i for i in range(2) if fits[i].needs_crop]
    top = str(ctx.layer("Pooling", [ctx.blob(0)], {"pooling_param": params},
                        final=not cropped and correction is None))
    for n, i in enumerate(cropped):
        last = n == len(cropped) - 1 and correction is None
        top = crop(ctx, top, 2 + i, fits[i].offset, fits[i].onnx_out, fits[i].caffe_out, final=last)
    if correction is not None:
        top = str(ctx.layer("Scale", [top], {"scale_param": {"axis": 2, "num_axes": 2}}, [correction]))
    return top


def _divisor_ratio(size: int, k: int, s: int, pb: int, pe: int, fit: AxisFit, include_pad: bool) -> np.ndarray:
    """Per kept window along one axis: Caffe's divisor over ONNX's."""
    starts = -pb + s * np.arange(fit.onnx_out)
    caffe = np.minimum(starts + k, size + fit.pad) - starts
    if include_pad:
        onnx = np.minimum(starts + k, size + pe) - starts
    else:
        onnx = np.minimum(starts + k, size) - np.maximum(starts, 0)
    if np.any(onnx <= 0):
        raise UnsupportedOp("a pooling window lies entirely in the padding")
    return caffe.astype(np.float64) / onnx


@TABLE.op("GlobalAveragePool", "GlobalMaxPool")
def global_pool(ctx: Ctx) -> str:
    spatial_2d(ctx, "global pooling")
    kind = "AVE" if ctx.node.op_type == "GlobalAveragePool" else "MAX"
    return str(ctx.layer("Pooling", [ctx.blob(0)], {"pooling_param": {"pool": Enum(kind), "global_pooling": True}}))
