"""Resize (2-d, batch and channels kept) -> Interp: nearest with asymmetric/floor coordinates,
linear with half_pixel / pytorch_half_pixel / align_corners, cubic likewise (A = -0.75). The
output size is explicit; a nearest map whose float32 source index (ncnn: (int)(x * (w / outw)))
differs from ONNX's exact floor anywhere is refused."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..builder import Builder
from . import TABLE


def _mode(node: ir.Node, key: str, default: str) -> str:
    v = node.attr(key, default)
    return v.decode() if isinstance(v, bytes) else v


def _nearest_exact(size: int, out: int) -> bool:
    ws = np.float32(size) / np.float32(out)
    for x in range(out):
        ncnn = min(int(np.float32(x) * ws), size - 1)
        onnx = min(int(Fraction(x * size, out)), size - 1)
        if ncnn != onnx:
            return False
    return True


@TABLE.op("Resize")
def resize(b: Builder, node: ir.Node) -> None:
    x = node.input(0)
    shape = b.shape(x)
    if len(shape) != 4 or shape[0] != 1:
        raise UnsupportedOp(f"input shape {list(shape)}: ncnn resizes 2-d maps of batch 1")
    roi, scales, sizes = node.input(1), node.input(2), node.input(3)
    if node.attr("axes") is not None:
        raise UnsupportedOp("the axes attribute")
    if sizes is not None and sizes.const is not None and sizes.const.size:
        out = [int(d) for d in sizes.const.reshape(-1)]
        given_scales = None
    elif scales is not None and scales.const is not None and scales.const.size:
        sc = [float(s) for s in scales.const.reshape(-1)]
        out = [int(np.floor(d * s)) for d, s in zip(shape, sc)]
        given_scales = sc
    else:
        raise UnsupportedOp("scales/sizes that are not constants")
    if out[:2] != list(shape[:2]):
        raise UnsupportedOp("resizing the batch or channel axis")
    if int(node.attr("antialias", 0)) and any(o < s for o, s in zip(out[2:], shape[2:])):
        raise UnsupportedOp("antialiased downscaling")
    if _mode(node, "keep_aspect_ratio_policy", "stretch") != "stretch":
        raise UnsupportedOp("keep_aspect_ratio_policy")
    if given_scales is not None and any(Fraction(o) / Fraction(s) != Fraction(g) for o, s, g in zip(out[2:], shape[2:], given_scales[2:])):
        raise UnsupportedOp("scales that do not divide the output size exactly (ONNX then maps coordinates by the scale, ncnn by the size ratio)")
    mode = _mode(node, "mode", "nearest")
    ctm = _mode(node, "coordinate_transformation_mode", "half_pixel")
    del roi
    params: dict = {3: out[2], 4: out[3]}
    if mode == "nearest":
        if ctm != "asymmetric" or _mode(node, "nearest_mode", "round_prefer_floor") != "floor":
            raise UnsupportedOp(f"nearest with {ctm}/{_mode(node, 'nearest_mode', 'round_prefer_floor')} (ncnn: asymmetric/floor)")
        if not all(_nearest_exact(s, o) for s, o in zip(shape[2:], out[2:])):
            raise UnsupportedOp("a size ratio whose float32 source indices differ from ONNX's")
        params[0] = 1
    elif mode in ("linear", "cubic"):
        if mode == "cubic" and float(node.attr("cubic_coeff_a", -0.75)) != -0.75:
            raise UnsupportedOp("cubic_coeff_a other than -0.75")
        if mode == "cubic" and int(node.attr("exclude_outside", 0)):
            raise UnsupportedOp("exclude_outside")
        if ctm == "align_corners":
            params[6] = 1
        elif ctm == "pytorch_half_pixel" or (ctm == "half_pixel" and all(o > 1 for o in out[2:])):
            pass
        else:
            raise UnsupportedOp(f"{mode} with coordinate_transformation_mode {ctm}")
        params[0] = 2 if mode == "linear" else 3
    else:
        raise UnsupportedOp(f"mode {mode}")
    out_shape = tuple(out)
    blob = b.layer1("Interp", [b.view(x, shape[1:])], out_shape[1:], params)
    b.bind(node.outputs[0], blob, out_shape)
