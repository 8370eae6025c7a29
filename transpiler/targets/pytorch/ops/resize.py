"""Resize (and Upsample, canonicalised to Resize)."""

from __future__ import annotations


from ....errors import UnsupportedOp
from ..context import Ctx, call
from . import TABLE


@TABLE.op("Resize")
def resize(ctx: Ctx) -> str:
    mode = ctx.attr("mode", "nearest")
    ctm = ctx.attr("coordinate_transformation_mode", "half_pixel")
    rank = ctx.need_rank(0)
    if rank not in (3, 4, 5):
        raise UnsupportedOp("only 1-D to 3-D spatial resizing is supported")
    if ctx.attr("antialias", 0) or ctx.attr("axes") is not None:
        raise UnsupportedOp("antialias / axes are not supported")
    scales = ctx.const(2) if ctx.has(2) else None
    sizes = ctx.const(3) if ctx.has(3) else None
    kwargs: dict = {}
    if sizes is not None and sizes.size:
        kwargs["size"] = tuple(int(s) for s in sizes[2:])
        if [int(s) for s in sizes[:2]] != [d for d in (ctx.shape(0) or [None, None])[:2]]:
            raise UnsupportedOp("resizing the batch or channel axis is not supported")
    elif scales is not None and scales.size:
        if float(scales[0]) != 1.0 or float(scales[1]) != 1.0:
            raise UnsupportedOp("resizing the batch or channel axis is not supported")
        kwargs["scale_factor"] = tuple(float(s) for s in scales[2:])
    else:
        raise UnsupportedOp("scales or sizes must be constants")
    if mode == "nearest":
        if ctm != "asymmetric" or ctx.attr("nearest_mode", "round_prefer_floor") != "floor":
            raise UnsupportedOp(f"nearest resizing with {ctm} / {ctx.attr('nearest_mode')} is not supported yet")
        kwargs["mode"] = "nearest"
    elif mode == "linear":
        if ctm not in ("half_pixel", "pytorch_half_pixel", "align_corners"):
            raise UnsupportedOp(f"linear resizing with {ctm} coordinates is not supported yet")
        kwargs["mode"] = {3: "linear", 4: "bilinear", 5: "trilinear"}[rank]
        kwargs["align_corners"] = ctm == "align_corners"
    else:
        raise UnsupportedOp(f"{mode} resizing is not supported yet")
    if "size" in kwargs and len(set(kwargs["size"])) == 1:
        kwargs["size"] = kwargs["size"][0]
    if "scale_factor" in kwargs and len(set(kwargs["scale_factor"])) == 1:
        kwargs["scale_factor"] = kwargs["scale_factor"][0]
    return call("F.interpolate", ctx.x(0), **kwargs)
