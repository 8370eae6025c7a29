"""Conv -> Convolution / ConvolutionDepthWise (2-D), Convolution1D / ConvolutionDepthWise1D;
ConvTranspose -> Deconvolution / DeconvolutionDepthWise. Pads are always explicit (auto_pad is
resolved here from the static input shape), so ncnn's own padding modes never come into play."""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..builder import Builder, float_data
from ..net import Weight
from . import TABLE


def _batch1(b: Builder, x: ir.Value, rank: int) -> tuple[int, ...]:
    shape = b.shape(x)
    if len(shape) != rank:
        raise UnsupportedOp(f"input of rank {len(shape)}; expected {rank}")
    if shape[0] != 1:
        raise UnsupportedOp(f"batch size {shape[0]}: ncnn has no batch axis, only batch 1 converts")
    return shape


def resolve_pads(node: ir.Node, spatial: tuple[int, ...], kernel: list[int], strides: list[int], dilations: list[int]) -> list[int]:
    """ONNX pads [begin..., end...] with auto_pad resolved."""
    n = len(spatial)
    auto = node.attr("auto_pad", "NOTSET")
    if isinstance(auto, bytes):
        auto = auto.decode()
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = [0] * (2 * n)
        for i in range(n):
            out = -(-spatial[i] // strides[i])
            total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - spatial[i])
            small, big = total // 2, total - total // 2
            pads[i], pads[i + n] = (small, big) if auto == "SAME_UPPER" else (big, small)
        return pads
    if auto == "VALID":
        return [0] * (2 * n)
    pads = list(node.attr("pads", [0] * (2 * n)))
    if len(pads) != 2 * n:
        raise UnsupportedOp(f"pads {pads} do not match {n} spatial dims")
    return [int(p) for p in pads]


def _spatial_params(kernel, strides, dilations, pads, one_d: bool) -> dict[int, int]:
    if one_d:
        return {1: kernel[0], 2: dilations[0], 3: strides[0], 4: pads[0], 15: pads[1]}
    return {
        1: kernel[1], 11: kernel[0], 2: dilations[1], 12: dilations[0], 3: strides[1], 13: strides[0],
        4: pads[1], 15: pads[3], 14: pads[0], 16: pads[2],
    }


@TABLE.op("Conv")
def conv(b: Builder, node: ir.Node) -> None:
    x, w, bias = node.input(0), node.input(1), node.input(2)
    wt = b.const(w)
    if wt is None:
        raise UnsupportedOp("the weight is not a constant (ncnn's dynamic-weight convolution is not emitted)")
    if bias is not None and bias.const is None:
        raise UnsupportedOp("the bias is not a constant")
    if wt.ndim not in (3, 4):
        raise UnsupportedOp(f"{wt.ndim - 2}-d convolution (ncnn target converts 1-d and 2-d)")
    one_d = wt.ndim == 3
    shape = _batch1(b, x, wt.ndim)
    group = int(node.attr("group", 1))
    cout, cin_g = wt.shape[:2]
    kernel = list(node.attr("kernel_shape", list(wt.shape[2:])))
    n = len(kernel)
    strides = list(node.attr("strides", [1] * n))
    dilations = list(node.attr("dilations", [1] * n))
    pads = resolve_pads(node, shape[2:], kernel, strides, dilations)
    out_sp = [
        (shape[2 + i] + pads[i] + pads[i + n] - dilations[i] * (kernel[i] - 1) - 1) // strides[i] + 1 for i in range(n)
    ]
    if any(d <= 0 for d in out_sp):
        raise UnsupportedOp(f"empty output {out_sp}")
    out_shape = (1, cout, *out_sp)
    params = {0: cout, **_spatial_params(kernel, strides, dilations, pads, one_d), 5: int(bias is not None), 6: int(wt.size)}
    if group == 1:
        kind = "Convolution1D" if one_d else "Convolution"
    else:
        kind = "ConvolutionDepthWise1D" if one_d else "ConvolutionDepthWise"
        params[7] = group
    weights = [Weight(float_data(wt, "the weight"), flagged=True)]
    if bias is not None:
        weights.append(Weight(float_data(bias.const, "the bias").reshape(-1), flagged=False))
    del cin_g
    blob = b.layer1(kind, [b.view(x, shape[1:])], out_shape[1:], params, weights)
    b.bind(node.outputs[0], blob, out_shape)


@TABLE.op("ConvTranspose")
def conv_transpose(b: Builder, node: ir.Node) -> None:
    x, w, bias = node.input(0), node.input(1), node.input(2)
    wt = b.const(w)
    if wt is None:
        raise UnsupportedOp("the weight is not a constant")
    if bias is not None and bias.const is None:
        raise UnsupportedOp("the bias is not a constant")
    if wt.ndim != 4:
        raise UnsupportedOp(f"{wt.ndim - 2}-d transposed convolution (ncnn target converts 2-d)")
    shape = _batch1(b, x, 4)
    group = int(node.attr("group", 1))
    cin, cout_g = wt.shape[:2]
    cout = cout_g * group
    kernel = list(node.attr("kernel_shape", list(wt.shape[2:])))
    strides = list(node.attr("strides", [1, 1]))
    dilations = list(node.attr("dilations", [1, 1]))
    out_pad = list(node.attr("output_padding", [0, 0]))
    auto = node.attr("auto_pad", "NOTSET")
    if isinstance(auto, bytes):
        auto = auto.decode()
    if node.attr("output_shape") is not None or auto not in ("NOTSET", "VALID"):
        raise UnsupportedOp("output_shape / SAME auto_pad (give explicit pads)")
    pads = [int(p) for p in node.attr("pads", [0, 0, 0, 0])] if auto == "NOTSET" else [0, 0, 0, 0]
    out_sp = [
        strides[i] * (shape[2 + i] - 1) + out_pad[i] + ((kernel[i] - 1) * dilations[i] + 1) - pads[i] - pads[i + 2]
        for i in range(2)
    ]
    if any(d <= 0 for d in out_sp):
        raise UnsupportedOp(f"empty output {out_sp}")
    # ncnn: weight [group][outch/g][inch/g][kh][kw]; ONNX: [inch][outch/g][kh][kw]
    wt_n = wt.reshape(group, cin // group, cout_g, *wt.shape[2:]).transpose(0, 2, 1, 3, 4)
    params = {
        0: cout, **_spatial_params(kernel, strides, dilations, pads, False), 5: int(bias is not None),
        6: int(wt.size), 18: out_pad[1], 19: out_pad[0],
    }
    kind = "Deconvolution"
    if group != 1:
        kind = "DeconvolutionDepthWise"
        params[7] = group
    weights = [Weight(float_data(np.ascontiguousarray(wt_n), "the weight"), flagged=True)]
    if bias is not None:
        weights.append(Weight(float_data(bias.const, "the bias").reshape(-1), flagged=False))
    out_shape = (1, cout, *out_sp)
    blob = b.layer1(kind, [b.view(x, shape[1:])], out_shape[1:], params, weights)
    b.bind(node.outputs[0], blob, out_shape)
