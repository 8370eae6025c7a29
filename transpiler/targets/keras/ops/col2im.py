"""Col2Im as a transposed convolution: each column's block of values is added back into the
image, which is what a transposed convolution with a one-hot kernel (one input channel per
block position) does. Channels ride in the batch axis, so the kernel stays (*block, B, 1)."""

from __future__ import annotations

import itertools

import numpy as np

from ..context import FLOATS, Ctx, lit
from . import TABLE
from .conv import transposed_conv


def _blocks(image: list[int], block: list[int], pads: list[int], strides: list[int], dilations: list[int]) -> list[int]:
    nd = len(image)
    return [(image[i] + pads[i] + pads[nd + i] - dilations[i] * (block[i] - 1) - 1) // strides[i] + 1 for i in range(nd)]


@TABLE.op("Col2Im")
def col2im(ctx: Ctx) -> str:
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("Col2Im of integers")
    xs = ctx.static_shape(0)
    out = ctx.out_static(0)
    nd = len(out) - 2
    if len(xs) != 3 or nd < 1:
        raise ctx.refuse(f"Col2Im of a {xs} input")
    dilations = [int(d) for d in ctx.attr("dilations", [1] * nd)]
    pads = [int(p) for p in ctx.attr("pads", [0] * (2 * nd))]
    strides = [int(s) for s in ctx.attr("strides", [1] * nd)]
    image = [int(v) for v in out[2:]]
    if ctx.const(1) is not None and [int(v) for v in ctx.const(1).reshape(-1)] != image:
        raise ctx.refuse("image_shape disagrees with the output's shape")
    batch, chans = int(out[0]), int(out[1])
    if chans == 0 or xs[1] % chans:
        raise ctx.refuse(f"{xs[1]} column rows over {chans} channels")
    size = xs[1] // chans
    if ctx.const(2) is not None:
        block = [int(v) for v in ctx.const(2).reshape(-1)]
    else:
        # block_shape given at run time: the one block whose size and block count fit the
        # static shapes (refused when several do)
        fits = [
            list(b) for b in itertools.product(*(range(1, size + 1) for _ in range(nd)))
            if int(np.prod(b)) == size and int(np.prod(_blocks(image, list(b), pads, strides, dilations))) == xs[2]
            and min(_blocks(image, list(b), pads, strides, dilations)) >= 1
        ]
        if len(fits) != 1:
            raise ctx.refuse("block_shape is given at run time and the static shapes do not determine it")
        block = fits[0]
    counts = _blocks(image, block, pads, strides, dilations)
    if int(np.prod(block)) != size or int(np.prod(counts)) != xs[2] or min(counts) < 1:
        raise ctx.refuse(f"Col2Im input {xs} does not match blocks {block} over image {image}")
    # one-hot kernel, flipped: block position k feeds input channel ravel(k)
    kernel = np.zeros((*block, size, 1), dtype=ctx.dtype(ctx.elem(0)))
    for j, k in enumerate(itertools.product(*(range(b) for b in block))):
        kernel[tuple(b - 1 - v for b, v in zip(block, k)) + (j, 0)] = 1
    x = f"ops.reshape({ctx.x(0)}, {lit((batch * chans, size, *counts))})"
    x = ctx.assign("cols", f"ops.transpose({x}, {lit((0, *range(2, 2 + nd), 1))})")
    y = transposed_conv(
        ctx, x, [batch * chans, *counts, size], ctx.constant(kernel, "col2im_kernel"), block, strides, dilations,
        1, pads[:nd], image,
    )
    return f"ops.reshape({y}, {lit((batch, chans, *image))})"
