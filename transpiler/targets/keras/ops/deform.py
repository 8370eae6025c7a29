"""DeformConv (2-D) as gathers and a matmul: every kernel tap samples the input bilinearly
(zeros outside) at its offset position, as ONNX's reference does with GridSample, the samples
are scaled by the mask, and the stacked taps meet the weight in one matmul per group."""

from __future__ import annotations

import numpy as np

from ..context import FLOATS, Ctx, lit
from ..layout import channels_last
from . import TABLE


@TABLE.op("DeformConv")
def deform_conv(ctx: Ctx) -> str:
    xs, ws, os_ = ctx.static_shape(0), ctx.static_shape(1), ctx.static_shape(2)
    if len(xs) != 4:
        raise ctx.refuse(f"{len(xs) - 2}-D DeformConv (ONNX's reference defines 2-D only)")
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("DeformConv of integers")
    batch, chans, height, width = (int(v) for v in xs)
    if height == 1 or width == 1:
        raise ctx.refuse("DeformConv over a size-1 axis (ONNX's reference divides by zero)")
    oc, cg = int(ws[0]), int(ws[1])
    kernel = [int(k) for k in ctx.attr("kernel_shape", list(ws[2:]))]
    strides = [int(s) for s in ctx.attr("strides", [1, 1])]
    dilations = [int(d) for d in ctx.attr("dilations", [1, 1])]
    pads = [int(p) for p in ctx.attr("pads", [0, 0, 0, 0])]
    group, ogroups = int(ctx.attr("group", 1)), int(ctx.attr("offset_group", 1))
    taps = kernel[0] * kernel[1]
    oh, ow = int(os_[2]), int(os_[3])
    if cg * group != chans or oc % group or chans % ogroups or int(os_[1]) != ogroups * taps * 2 or group > 64:
        raise ctx.refuse(f"DeformConv shapes X {xs}, W {ws}, offset {os_} with group={group}, offset_group={ogroups}")
    dtype = ctx.dtype(ctx.elem(0))
    cl = channels_last(4)
    x = ctx.x(0, cl)
    ctx.set_perm(0, cl)
    flat = ctx.assign("x_flat", f"ops.reshape({x}, {lit((batch * height * width, chans))})")
    # each tap's undeformed position: (taps, oh, ow) per axis
    kh, kw = np.meshgrid(np.arange(kernel[0]) * dilations[0], np.arange(kernel[1]) * dilations[1], indexing="ij")
    rows = (np.arange(oh) * strides[0] - pads[0])[None, :, None] + kh.reshape(-1, 1, 1)
    cols = (np.arange(ow) * strides[1] - pads[1])[None, None, :] + kw.reshape(-1, 1, 1)
    rows = np.broadcast_to(rows, (taps, oh, ow)).astype(dtype)
    cols = np.broadcast_to(cols, (taps, oh, ow)).astype(dtype)
    offs = ctx.assign("offs", f"ops.reshape({ctx.x(2)}, {lit((batch, ogroups, taps, 2, oh, ow))})")
    mask = None
    if ctx.n_in > 4 and ctx.has(4):
        mask = ctx.assign("mask", f"ops.reshape({ctx.x(4)}, {lit((batch, ogroups, taps, oh, ow))})")
    base = ctx.assign("base", f"ops.reshape(ops.arange(0, {batch * height * width}, {height * width}, dtype=\"int32\"), {lit((batch, 1, 1, 1))})")
    per_og = chans // ogroups
    sampled = []
    for g in range(ogroups):
        py = ctx.assign("py", f"ops.add({ctx.constant(rows, 'tap_rows')}, {offs}[:, {g}, :, 0])")
        px = ctx.assign("px", f"ops.add({ctx.constant(cols, 'tap_cols')}, {offs}[:, {g}, :, 1])")
        y0 = ctx.assign("y0", f"ops.floor({py})")
        x0 = ctx.assign("x0", f"ops.floor({px})")
        ly = ctx.assign("ly", f"ops.subtract({py}, {y0})")
        lx = ctx.assign("lx", f"ops.subtract({px}, {x0})")
        y0 = ctx.assign("y0", f"ops.cast({y0}, \"int32\")")
        x0 = ctx.assign("x0", f"ops.cast({x0}, \"int32\")")
        acc = None
        for dy, wy in ((0, f"ops.subtract(1.0, {ly})"), (1, ly)):
            for dx, wx in ((0, f"ops.subtract(1.0, {lx})"), (1, lx)):
                yi = y0 if dy == 0 else f"ops.add({y0}, 1)"
                xi = x0 if dx == 0 else f"ops.add({x0}, 1)"
                ok = (f"ops.logical_and(ops.logical_and(ops.greater_equal({yi}, 0), ops.less({yi}, {height})), "
                      f"ops.logical_and(ops.greater_equal({xi}, 0), ops.less({xi}, {width})))")
                ok = ctx.assign("ok", ok)
                pos = f"ops.add({base}, ops.add(ops.multiply(ops.clip({yi}, 0, {height - 1}), {width}), ops.clip({xi}, 0, {width - 1})))"
                val = f"ops.take({flat}, {pos}, axis=0)[..., {g * per_og}:{(g + 1) * per_og}]"
                val = f"ops.where(ops.expand_dims({ok}, -1), {val}, 0.0)"
                w = f"ops.expand_dims(ops.cast(ops.multiply({wy}, {wx}), {lit(dtype)}), -1)"
                term = ctx.assign("tap", f"ops.multiply({w}, {val})")
                acc = term if acc is None else ctx.assign("s", f"ops.add({acc}, {term})")
        if mask is not None:
            acc = ctx.assign("s", f"ops.multiply({acc}, ops.expand_dims({mask}[:, {g}], -1))")
        sampled.append(acc)
    # (batch, taps, oh, ow, C) -> (batch, oh, ow, taps, C)
    s = sampled[0] if len(sampled) == 1 else f"ops.concatenate([{', '.join(sampled)}], axis=-1)"
    s = ctx.assign("samples", f"ops.transpose({s}, (0, 2, 3, 1, 4))")
    # W (oc, C/group, kh, kw) -> (taps * C/group, oc), tap-major like the samples
    w = ctx.assign("w_taps", f"ops.reshape(ops.transpose({ctx.x(1)}, (2, 3, 1, 0)), {lit((taps * cg, oc))})")
    per_oc = oc // group
    parts = []
    for g in range(group):
        sg = s if group == 1 else f"{s}[..., {g * cg}:{(g + 1) * cg}]"
        wg = w if group == 1 else f"{w}[:, {g * per_oc}:{(g + 1) * per_oc}]"
        parts.append(f"ops.matmul(ops.reshape({sg}, {lit((batch, oh, ow, taps * cg))}), {wg})")
    y = parts[0] if group == 1 else f"ops.concatenate([{', '.join(parts)}], axis=-1)"
    if ctx.n_in > 3 and ctx.has(3):
        y = f"ops.add({y}, {ctx.x(3)})"
    return y
