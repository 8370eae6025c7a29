"""Convolutions as Keras layers on channels-last tensors: ConvND, DepthwiseConvND and
ConvNDTranspose; explicit pads as ZeroPaddingND (Keras 'same' is used only where it is identical)."""

from __future__ import annotations

import numpy as np

from ..context import FLOATS, Ctx, call, lit
from ..layout import channels_last
from . import TABLE
from ._window import keras_same, padding_arg, spatial_pads


def _geometry(ctx: Ctx, w: np.ndarray) -> tuple[int, list[int], list[int], list[int]]:
    rank = ctx.need_rank(0)
    nd = rank - 2
    if nd not in (1, 2, 3):
        raise ctx.refuse(f"{nd}-D convolution")
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("convolution of integers")
    kernel = list(ctx.attr("kernel_shape", list(w.shape[2:])))
    strides = list(ctx.attr("strides", [1] * nd))
    dilations = list(ctx.attr("dilations", [1] * nd))
    return nd, [int(k) for k in kernel], [int(s) for s in strides], [int(d) for d in dilations]


def _kw(strides: list[int], dilations: list[int], nd: int) -> dict:
    kw: dict = {}
    if any(s != 1 for s in strides):
        kw["strides"] = strides[0] if nd == 1 else tuple(strides)
    if any(d != 1 for d in dilations):
        kw["dilation_rate"] = dilations[0] if nd == 1 else tuple(dilations)
    return kw


def _size(v: list[int]) -> object:
    return v[0] if len(v) == 1 else tuple(v)


def _conv_runtime_weight(ctx: Ctx) -> str:
    """A weight computed at run time (or given as an input): `ops.conv` on the tensor itself
    (`ops.depthwise_conv` for depthwise groups, one `ops.conv` per group otherwise)."""
    wshape = ctx.static_shape(1)
    rank = ctx.need_rank(0)
    nd = rank - 2
    if nd not in (1, 2, 3) or ctx.elem(0) not in FLOATS:
        raise ctx.refuse("convolution needs a float tensor of rank 3 to 5")
    group = int(ctx.attr("group", 1))
    kernel = [int(k) for k in ctx.attr("kernel_shape", list(wshape[2:]))]
    strides = [int(s) for s in ctx.attr("strides", [1] * nd)]
    dilations = [int(d) for d in ctx.attr("dilations", [1] * nd)]
    pads = spatial_pads(ctx, kernel, strides, dilations)
    c_out, c_per_group = int(wshape[0]), int(wshape[1])
    if group < 1 or c_out % group:
        raise ctx.refuse(f"group={group} does not divide {c_out} output channels")
    depthwise = group > 1 and c_per_group == 1 and nd in (1, 2)
    if group > 1 and not depthwise and group > 64:
        raise ctx.refuse(f"{group} groups with a weight given at run time (one ops.conv per group)")
    cl = channels_last(rank)
    x = ctx.x(0, cl)
    ctx.set_perm(0, cl)
    if any(p != (0, 0) for p in pads):
        x = ctx.assign("x_pad", f"ops.pad({x}, {lit([(0, 0), *pads, (0, 0)])})")
    kw = ""
    if any(s != 1 for s in strides):
        kw += f", strides={lit(tuple(strides))}"
    if any(d != 1 for d in dilations):
        kw += f", dilation_rate={lit(tuple(dilations))}"
    spatial = tuple(range(2, 2 + nd))
    if group == 1:
        y = f"ops.conv({x}, ops.transpose({ctx.x(1)}, {lit((*spatial, 1, 0))}){kw})"
    elif depthwise:
        # (C*m, 1, *k) -> (*k, C, m): output channel c*m + j, as in ONNX
        w = f"ops.reshape({ctx.x(1)}, {lit((group, c_out // group, *kernel))})"
        w = f"ops.transpose({w}, {lit((*spatial, 0, 1))})"
        y = f"ops.depthwise_conv({x}, {w}{kw})"
    else:
        w = ctx.assign("w_cl", f"ops.transpose({ctx.x(1)}, {lit((*spatial, 1, 0))})")
        lead = ", ".join([":"] * (rank - 1))
        c_in, per_out = c_per_group, c_out // group
        parts = [
            f"ops.conv({x}[{lead}, {g * c_in}:{(g + 1) * c_in}], {w}[{lead}, {g * per_out}:{(g + 1) * per_out}]{kw})"
            for g in range(group)
        ]
        y = ctx.assign("y_groups", f"ops.concatenate([{', '.join(parts)}], axis=-1)")
    if ctx.has(2):
        y = f"ops.add({y}, {ctx.x(2)})"
    return y


@TABLE.op("Conv")
def conv(ctx: Ctx) -> str:
    if ctx.const(1) is None:
        return _conv_runtime_weight(ctx)
    w = ctx.need_const(1, "the weight")
    nd, kernel, strides, dilations = _geometry(ctx, w)
    bias = ctx.const(2) if ctx.has(2) else None
    if ctx.has(2) and bias is None:
        raise ctx.refuse("the bias must be a constant")
    group = int(ctx.attr("group", 1))
    rank = nd + 2
    cl = channels_last(rank)
    x = ctx.x(0, cl)
    ctx.set_perm(0, cl)
    pads = spatial_pads(ctx, kernel, strides, dilations)
    kw = _kw(strides, dilations, nd)
    if any(p != (0, 0) for p in pads):
        if keras_same(pads, kernel, strides, dilations):
            kw["padding"] = "same"
        else:
            pad = ctx.layer(call(f"layers.ZeroPadding{nd}D", padding=padding_arg(pads)), hint=ctx.pad_hint())
            x = ctx.assign(f"{x}_pad" if x.isidentifier() else "x_pad", f"{pad}({x})")
    c_out, c_per_group = int(w.shape[0]), int(w.shape[1])
    c_in = c_per_group * group
    weights: dict[str, np.ndarray] = {}
    if group > 1 and c_per_group == 1 and c_out % c_in == 0 and nd in (1, 2):
        mult = c_out // c_in
        # (C*m, 1, *k) -> (*k, C, m): output channel c*m + j is Keras's order too
        kernel_arr = w.reshape(c_in, mult, *w.shape[2:]).transpose(*range(2, 2 + nd), 0, 1)
        args = [lit(_size(kernel))]
        if mult != 1:
            kw["depth_multiplier"] = mult
        ctor = f"layers.DepthwiseConv{nd}D"
    else:
        kernel_arr = w.transpose(*range(2, 2 + nd), 1, 0)
        args = [lit(c_out), lit(_size(kernel))]
        if group > 1:
            kw["groups"] = group
        ctor = f"layers.Conv{nd}D"
    weights["kernel"] = kernel_arr
    if bias is None:
        kw["use_bias"] = False
    else:
        weights["bias"] = bias.reshape(-1)
    layer = ctx.layer(call(ctor, *args, **kw), weights)
    return f"{layer}({x})"


@TABLE.op("ConvTranspose")
def conv_transpose(ctx: Ctx) -> str:
    w = ctx.const(1)
    runtime = w is None
    if runtime:
        w = np.empty(ctx.static_shape(1), dtype=np.float32)  # only its shape is used below
    nd, kernel, strides, dilations = _geometry(ctx, w)
    group = int(ctx.attr("group", 1))
    bias = ctx.const(2) if ctx.has(2) else None
    if ctx.has(2) and bias is None and not runtime:
        raise ctx.refuse("the bias must be a constant")
    shape = ctx.shape(0)
    assert shape is not None
    sizes = shape[2:]
    if not all(isinstance(s, int) for s in sizes):
        raise ctx.refuse("ConvTranspose needs static spatial sizes")
    out_shape = ctx.out_shape(0)
    if out_shape is None or not all(isinstance(s, int) for s in out_shape[2:]):
        raise ctx.refuse("ConvTranspose needs a static output shape")
    pads = list(ctx.attr("pads", [0] * (2 * nd)))
    auto = ctx.attr("auto_pad", "NOTSET")
    crops: list[tuple[int, int]] = []
    grow: list[int] = []
    for i in range(nd):
        full = (sizes[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1
        keras_len = sizes[i] * strides[i] + max((kernel[i] - 1) * dilations[i] + 1 - strides[i], 0)
        want = int(out_shape[2 + i])
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            total = full + int(ctx.attr("output_padding", [0] * nd)[i]) - want
            begin = total // 2 if auto == "SAME_UPPER" else total - total // 2
        else:
            begin = int(pads[i])
        end = keras_len - begin - want
        if begin < 0:
            raise ctx.refuse("negative pads")
        # positions past Keras's output (output_padding) get no kernel contribution: zeros + bias
        grow.append(max(-end, 0))
        crops.append((begin, max(end, 0)))
    rank = nd + 2
    cl = channels_last(rank)
    if runtime or group != 1 or (ctx.has(2) and bias is None):
        # Keras ConvTranspose layers have no groups and hold constant weights only
        return _conv_transpose_ops(ctx, nd, kernel, strides, dilations, group, crops, [int(d) for d in out_shape[2:]])
    x = ctx.x(0, cl)
    ctx.set_perm(0, cl)
    kw = _kw(strides, dilations, nd)
    c_out = int(w.shape[1])
    # ONNX (C_in, C_out, *k) -> Keras (*k, C_out, C_in)
    weights = {"kernel": w.transpose(*range(2, 2 + nd), 1, 0)}
    if bias is None or any(grow):
        kw["use_bias"] = False
    else:
        weights["bias"] = bias.reshape(-1)
    layer = ctx.layer(call(f"layers.Conv{nd}DTranspose", lit(c_out), lit(_size(kernel)), **kw), weights)
    y = f"{layer}({x})"
    if any(grow):
        y = ctx.assign("y", f"ops.pad({y}, {lit([(0, 0), *((0, g) for g in grow), (0, 0)])})")
        if bias is not None:
            y = ctx.assign("y", f"ops.add({y}, {ctx.constant(bias.reshape(-1), 'bias')})")
    if any(c != (0, 0) for c in crops):
        y = ctx.assign("y", y)
        crop = ctx.layer(call(f"layers.Cropping{nd}D", cropping=padding_arg(crops)))
        y = f"{crop}({y})"
    return y


def _conv_transpose_ops(
    ctx: Ctx, nd: int, kernel: list[int], strides: list[int], dilations: list[int], group: int,
    crops: list[tuple[int, int]], want: list[int],
) -> str:
    """ConvTranspose with a weight given at run time, or grouped: see `transposed_conv`."""
    rank = nd + 2
    cl = channels_last(rank)
    shape = ctx.static_shape(0)
    wshape = ctx.static_shape(1)
    c_in = int(wshape[0]) // group
    if c_in * group != int(shape[1]) or group > 64:
        raise ctx.refuse(f"ConvTranspose with group={group} over {shape[1]} channels")
    x = ctx.x(0, cl)
    ctx.set_perm(0, cl)
    dims = [int(shape[0]), *(int(d) for d in shape[2:]), int(shape[1])]
    spatial = tuple(range(2, 2 + nd))
    # ONNX (C_in, C_out/group, *k) -> flipped (*k, C_in, C_out/group)
    w = ctx.assign("w_flip", f"ops.flip(ops.transpose({ctx.x(1)}, {lit((*spatial, 0, 1))}), axis={lit(tuple(range(nd)))})")
    y = transposed_conv(ctx, x, dims, w, kernel, strides, dilations, group, [c[0] for c in crops], want)
    if ctx.has(2):
        y = f"ops.add({y}, {ctx.x(2)})"
    return y


def transposed_conv(
    ctx: Ctx, x: str, dims: list[int], w: str, kernel: list[int], strides: list[int], dilations: list[int],
    group: int, begin: list[int], want: list[int],
) -> str:
    """A transposed convolution written as a plain one on channels-last `x` of shape `dims`:
    zeros inserted between the input's positions (stride), the result padded by the kernel's
    reach less ONNX's begin pads (and up to `want` at the end, which covers output_padding), then
    convolved with `w`, the kernel already flipped, in (*k, C_in, C_out/group). One ops.conv
    per group."""
    nd = len(kernel)
    rank = nd + 2
    c_in = dims[-1] // group
    dims = list(dims)
    for i in range(nd):
        s = strides[i]
        if s == 1 or dims[1 + i] == 1:
            continue
        # (.., L, ..) -> (.., L, s, ..) zero-filled -> (.., L*s, ..) -> first (L-1)*s+1
        ax = 1 + i
        widths = [(0, 0)] * (len(dims) + 1)
        widths[ax + 1] = (0, s - 1)
        x = f"ops.pad(ops.expand_dims({x}, {ax + 1}), {lit(widths)})"
        dims[ax] *= s
        x = ctx.assign("x_up", f"ops.reshape({x}, {lit(tuple(dims))})")
        index = [":"] * len(dims)
        index[ax] = f":{(dims[ax] // s - 1) * s + 1}"
        dims[ax] = (dims[ax] // s - 1) * s + 1
        x = ctx.assign("x_up", f"{x}[{', '.join(index)}]")
    # the convolution's input must span want + reach: pad (or crop) both ends to that
    widths, index = [(0, 0)], [":"]
    for i in range(nd):
        reach = (kernel[i] - 1) * dilations[i]
        lo = reach - begin[i]
        hi = want[i] + reach - dims[1 + i] - lo
        widths.append((max(lo, 0), max(hi, 0)))
        length = dims[1 + i] + max(lo, 0) + max(hi, 0)
        index.append(f"{max(-lo, 0)}:{length - max(-hi, 0)}" if lo < 0 or hi < 0 else ":")
    widths.append((0, 0))
    index.append(":")
    if any(w != (0, 0) for w in widths):
        x = ctx.assign("x_pad", f"ops.pad({x}, {lit(widths)})")
    if any(ix != ":" for ix in index):
        x = ctx.assign("x_crop", f"{x}[{', '.join(index)}]")
    kw = f", dilation_rate={lit(tuple(dilations))}" if any(d != 1 for d in dilations) else ""
    if group == 1:
        y = f"ops.conv({x}, {w}{kw})"
    else:
        lead = ", ".join([":"] * (rank - 1))
        parts = [
            f"ops.conv({x}[{lead}, {g * c_in}:{(g + 1) * c_in}], {w}[{', '.join([':'] * nd)}, {g * c_in}:{(g + 1) * c_in}]{kw})"
            for g in range(group)
        ]
        y = ctx.assign("y_groups", f"ops.concatenate([{', '.join(parts)}], axis=-1)")
    return y
