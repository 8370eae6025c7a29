"""Sampling and patch ops: GridSample, AffineGrid, Col2Im, RoiAlign, DeformConv."""

from __future__ import annotations

from ....errors import UnsupportedOp
from ..context import Code, Ctx, call, lit
from . import TABLE
from ._util import compact, int_list

# GridSample-16 spells the modes bilinear / bicubic, GridSample-20 linear / cubic.
_GRID_MODES = {"bilinear": "bilinear", "linear": "bilinear", "nearest": "nearest", "bicubic": "bicubic", "cubic": "bicubic"}


def _list_arg(ctx: Ctx, i: int) -> object:
    """A list literal for a constant input, else code reading it at run time."""
    c = ctx.const(i)
    return int_list(c) if c is not None else Code(f"{ctx.x(i)}.tolist()")


@TABLE.op("GridSample")
def grid_sample(ctx: Ctx) -> str:
    mode = _GRID_MODES.get(ctx.attr("mode", "bilinear"))
    padding_mode = ctx.attr("padding_mode", "zeros")
    if mode is None:
        raise UnsupportedOp(f"unknown GridSample mode {ctx.attr('mode')!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise UnsupportedOp(f"unknown padding_mode {padding_mode!r}")
    rank = ctx.need_rank(0)
    if rank not in (4, 5):
        raise UnsupportedOp(f"GridSample on a rank-{rank} input has no PyTorch function")
    if rank == 5 and mode == "bicubic":
        raise UnsupportedOp("PyTorch has no volumetric bicubic grid sampling")
    kwargs: dict = {}
    if mode != "bilinear":
        kwargs["mode"] = mode
    if padding_mode != "zeros":
        kwargs["padding_mode"] = padding_mode
    align = bool(ctx.attr("align_corners", 0))
    kwargs["align_corners"] = align  # PyTorch warns when it is left out
    grid = ctx.x(1)
    if mode == "bicubic" and padding_mode != "zeros":
        # ONNX clamps / reflects an out-of-range point before taking its 4x4 taps; PyTorch
        # only pads the taps. Moving the points first makes the two agree.
        grid = call(ctx.helper("onnx_cubic_grid"), grid, f"{ctx.x(0)}.shape[2:]", lit(padding_mode), lit(align))
    return call("F.grid_sample", ctx.x(0), grid, **kwargs)


@TABLE.op("AffineGrid")
def affine_grid(ctx: Ctx) -> str:
    align = bool(ctx.attr("align_corners", 0))
    size = ctx.const(1)
    if align and size is not None and 1 in int_list(size)[2:]:  # type: ignore[operator]
        # the ONNX function divides by zero there (NaN), onnxruntime and PyTorch pick others
        raise UnsupportedOp("AffineGrid with align_corners=1 and a size-1 spatial axis is ill-defined")
    return call("F.affine_grid", ctx.x(0), _code(_list_arg(ctx, 1)), align_corners=align)


@TABLE.op("Col2Im")
def col2im(ctx: Ctx) -> str:
    image, block = ctx.const(1), ctx.const(2)
    n = None
    for v in (image, block):
        if v is not None:
            n = v.size
    if n is None:
        shape = ctx.shape(1)
        n = shape[0] if shape is not None and isinstance(shape[0], int) else None
    if n is None:
        raise UnsupportedOp("the number of image axes is unknown")
    dil = list(ctx.attr("dilations") or [1] * n)
    strides = list(ctx.attr("strides") or [1] * n)
    pads = list(ctx.attr("pads") or [0] * (2 * n))
    image_arg, block_arg = _list_arg(ctx, 1), _list_arg(ctx, 2)
    if n == 2 and pads[:2] == pads[2:]:
        # F.fold is exactly Col2Im for 2-D images with symmetric padding
        kwargs: dict = {}
        if compact(dil) != 1:
            kwargs["dilation"] = compact(dil)
        if compact(pads[:2]) != 0:
            kwargs["padding"] = compact(pads[:2])
        if compact(strides) != 1:
            kwargs["stride"] = compact(strides)
        return call("F.fold", ctx.x(0), _code(image_arg), _code(block_arg), **kwargs)
    kwargs = {}
    if any(d != 1 for d in dil):
        kwargs["dilations"] = dil
    if any(pads):
        kwargs["pads"] = pads
    if any(s != 1 for s in strides):
        kwargs["strides"] = strides
    return call(ctx.helper("onnx_col2im"), ctx.x(0), _code(image_arg), _code(block_arg), **kwargs)


def _code(v: object) -> str:
    return v if isinstance(v, Code) else lit(v)


@TABLE.op("RoiAlign")
def roi_align(ctx: Ctx) -> str:
    mode = ctx.attr("mode", "avg")
    ctm = ctx.attr("coordinate_transformation_mode", "half_pixel")
    if mode not in ("avg", "max"):
        raise UnsupportedOp(f"unknown RoiAlign mode {mode!r}")
    if ctm not in ("half_pixel", "output_half_pixel"):
        raise UnsupportedOp(f"unknown coordinate_transformation_mode {ctm!r}")
    if ctx.need_rank(0) != 4:
        raise UnsupportedOp("RoiAlign needs a 4-D input")
    size = (int(ctx.attr("output_height", 1)), int(ctx.attr("output_width", 1)))
    kwargs: dict = {}
    if float(ctx.attr("spatial_scale", 1.0)) != 1.0:
        kwargs["spatial_scale"] = float(ctx.attr("spatial_scale"))
    if int(ctx.attr("sampling_ratio", 0)):
        kwargs["sampling_ratio"] = int(ctx.attr("sampling_ratio"))
    if mode != "avg":
        kwargs["mode"] = mode
    if ctm != "half_pixel":
        kwargs["half_pixel"] = False
    return call(ctx.helper("onnx_roi_align"), ctx.x(0), ctx.x(1), ctx.x(2), lit(size), **kwargs)


@TABLE.op("DeformConv")
def deform_conv(ctx: Ctx) -> str:
    if ctx.need_rank(0) != 4:
        raise UnsupportedOp("only 2-D deformable convolution is supported")
    strides = list(ctx.attr("strides") or [1, 1])
    pads = list(ctx.attr("pads") or [0, 0, 0, 0])
    dil = list(ctx.attr("dilations") or [1, 1])
    kwargs: dict = {}
    if ctx.has(3):
        kwargs["bias"] = Code(ctx.x(3))
    if ctx.has(4):
        kwargs["mask"] = Code(ctx.x(4))
    if strides != [1, 1]:
        kwargs["strides"] = tuple(strides)
    if any(pads):
        kwargs["pads"] = tuple(pads)
    if dil != [1, 1]:
        kwargs["dilations"] = tuple(dil)
    if int(ctx.attr("group", 1)) != 1:
        kwargs["groups"] = int(ctx.attr("group"))
    if int(ctx.attr("offset_group", 1)) != 1:
        kwargs["offset_groups"] = int(ctx.attr("offset_group"))
    return call(ctx.helper("onnx_deform_conv"), ctx.x(0), ctx.x(1), ctx.x(2), **kwargs)
