"""Attention-family ops written out in keras.ops: RotaryEmbedding.

Each is the ONNX definition's arithmetic in the same order (so float results round the same way),
on static shapes.
"""

from __future__ import annotations

from .... import ir
from ..context import Ctx, lit
from . import TABLE


@TABLE.op("RotaryEmbedding")
def rotary_embedding(ctx: Ctx) -> str:
    shape = ctx.static_shape(0)
    rank = len(shape)
    if rank not in (3, 4):
        raise ctx.refuse("the input must be 3-D or 4-D")
    if ctx.elem(0) not in (ir.FLOAT, ir.DOUBLE, ir.FLOAT16):
        raise ctx.refuse("the input must be float16, float32 or float64")
    interleaved = bool(ctx.attr("interleaved", 0))
    x = ctx.x(0)
    if rank == 3:
        heads = int(ctx.attr("num_heads", 0) or 0)
        if heads <= 0 or shape[2] % heads:
            raise ctx.refuse("a 3-D input needs num_heads dividing its hidden size")
        b, s = shape[0], shape[1]
        head_size = shape[2] // heads
        x = ctx.assign("x", f"ops.reshape({x}, {lit((b, s, heads, head_size))})")  # (batch, seq, heads, size)
        head_axis = 2
    else:
        head_size = shape[3]
        head_axis = 1  # (batch, heads, seq, size)
    rot = int(ctx.attr("rotary_embedding_dim", 0) or 0) or head_size
    if rot > head_size or rot % 2:
        raise ctx.refuse(f"rotary_embedding_dim {rot} does not fit the head size {head_size}")
    half = rot // 2
    angles = []
    for i, hint in ((1, "cos"), (2, "sin")):
        cshape = ctx.static_shape(i)
        if cshape[-1] != half:
            raise ctx.refuse("the cos/sin cache's last dimension is not rotary_embedding_dim / 2")
        src = ctx.x(i)
        if ctx.n_in > 3 and ctx.has(3):
            src = f"ops.take({src}, {ctx.x(3)}, axis=0)"  # (batch, seq, half) by position
        elif len(cshape) != 3:
            raise ctx.refuse("without position_ids the cos/sin cache must be (batch, seq, half)")
        angles.append(ctx.assign(hint, f"ops.expand_dims({src}, {head_axis})"))
    cos, sin = angles
    x_rot = x if rot == head_size else ctx.assign("x_rot", f"{x}[..., :{rot}]")
    if interleaved:
        # pairs (x[2i], x[2i+1]): a (half, 2) view of the rotated part
        pairs = ctx.assign("pairs", f"ops.reshape({x_rot}, {lit((*_lead_shape(shape, rank, head_size), half, 2))})")
        x1, x2 = f"{pairs}[..., 0]", f"{pairs}[..., 1]"
    else:
        x1, x2 = f"{x_rot}[..., :{half}]", f"{x_rot}[..., {half}:]"
    x1, x2 = ctx.assign("x1", x1), ctx.assign("x2", x2)
    real = ctx.assign("real", f"{cos} * {x1} - {sin} * {x2}")
    imag = ctx.assign("imag", f"{sin} * {x1} + {cos} * {x2}")
    if interleaved:
        rotated = f"ops.reshape(ops.stack([{real}, {imag}], axis=-1), {lit((*_lead_shape(shape, rank, head_size), rot))})"
    else:
        rotated = f"ops.concatenate([{real}, {imag}], axis=-1)"
    if rot < head_size:
        rotated = f"ops.concatenate([{rotated}, {x}[..., {rot}:]], axis=-1)"
    if rank == 3:
        return f"ops.reshape({rotated}, {lit(shape)})"
    return rotated


def _lead_shape(shape: tuple[int, ...], rank: int, head_size: int) -> tuple[int, ...]:
    """The dims before the head-size axis of the 4-D working tensor."""
    if rank == 4:
        return shape[:3]
    return (shape[0], shape[1], shape[2] // head_size)
