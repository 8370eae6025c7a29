"""Small pieces shared by several lowerings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..context import Ctx, call, lit


def norm_axis(axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise UnsupportedOp(f"axis {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def compact(values: Sequence[int]) -> int | tuple[int, ...]:
    """(3, 3) -> 3: the short form PyTorch accepts when every spatial value is equal."""
    vals = tuple(int(v) for v in values)
    return vals[0] if vals and all(v == vals[0] for v in vals) else vals


def int_list(arr: np.ndarray | None) -> list[int] | None:
    return None if arr is None else [int(v) for v in np.asarray(arr).reshape(-1)]


def spatial_pads(ctx: Ctx, kernel: Sequence[int], strides: Sequence[int], dilations: Sequence[int]) -> list[int]:
    """ONNX pads [b1, b2, ..., e1, e2, ...] with auto_pad resolved (needs static spatial dims
    for SAME_*)."""
    n = len(kernel)
    auto = ctx.attr("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        pads = ctx.attr("pads") or [0] * (2 * n)
        return [int(p) for p in pads]
    if auto == "VALID":
        return [0] * (2 * n)
    shape = ctx.shape(0)
    if shape is None or not all(isinstance(d, int) for d in shape[2:]):
        raise UnsupportedOp(f"auto_pad={auto} needs static spatial dimensions")
    begins, ends = [], []
    for i in range(n):
        size = int(shape[2 + i])  # type: ignore[arg-type]
        out = -(-size // strides[i])
        total = max((out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size, 0)
        small, big = total // 2, total - total // 2
        if auto == "SAME_UPPER":
            begins.append(small)
            ends.append(big)
        else:
            begins.append(big)
            ends.append(small)
    return begins + ends


def torch_pad_arg(pads: Sequence[int]) -> list[int]:
    """ONNX [b1..bn, e1..en] -> F.pad's (last dim first) [bn, en, ..., b1, e1]."""
    n = len(pads) // 2
    out: list[int] = []
    for i in reversed(range(n)):
        out += [int(pads[i]), int(pads[n + i])]
    return out


def is_float(elem: int) -> bool:
    return elem in ir.FLOAT_TYPES


def pad_input(ctx: Ctx, x: str, pads: list[int], value: float | None = None) -> tuple[str, int | tuple[int, ...]]:
    """(input code, symmetric padding): asymmetric pads become an explicit F.pad first."""
    n = len(pads) // 2
    begins, ends = pads[:n], pads[n:]
    if begins == ends:
        return x, compact(begins)
    args = {"value": value} if value not in (None, 0.0) else {}
    padded = ctx.tmp("padded")
    ctx.stmt(f"{padded} = {call('F.pad', x, lit(torch_pad_arg(pads)), **args)}")
    return padded, 0


def conv_kwargs(strides: Sequence[int], padding: int | tuple[int, ...], dilations: Sequence[int], group: int) -> dict:
    """Keyword arguments of nn.ConvNd / F.convNd, defaults left out."""
    kwargs: dict = {}
    if compact(strides) != 1:
        kwargs["stride"] = compact(strides)
    if padding != 0:
        kwargs["padding"] = padding
    if compact(dilations) != 1:
        kwargs["dilation"] = compact(dilations)
    if group != 1:
        kwargs["groups"] = group
    return kwargs
