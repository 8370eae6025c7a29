"""Helpers shared by the lowerings: cutting a range out of one axis, 2-D attribute spelling."""

from __future__ import annotations

from typing import Any

from ....errors import UnsupportedOp
from ..net import Ctx


AXIS_NAMES = {2: "h", 3: "w"}


def crop(ctx: Ctx, blob: str, axis: int, start: int, length: int, full: int, final: bool) -> str:
    """Keep [start, start + length) of `axis` with a Slice layer (the other pieces are left
    unused). Returns `blob` itself when the range is the whole axis."""
    if start == 0 and length == full:
        return blob
    points = [p for p in (start, start + length) if 0 < p < full]
    kept = 1 if start > 0 else 0
    tops = ctx.layer("Slice", [blob], {"slice_param": {"axis": axis, "slice_point": points}},
                     final=final, tops=len(points) + 1, kept=kept, role=f"crop_{AXIS_NAMES.get(axis, axis)}")
    assert isinstance(tops, list)
    return tops[kept]


def edge_pad(ctx: Ctx, blob: str, axis: int, size: int) -> str:
    """`blob` with its first and last row (or column) repeated once more on the outside: a Slice
    of the borders and a Concat (Caffe has no replicate padding)."""
    name = AXIS_NAMES.get(axis, str(axis))
    if size == 1:
        first = last = blob
    elif size == 2:
        first, last = ctx.layer("Slice", [blob], {"slice_param": {"axis": axis, "slice_point": [1]}}, final=False,
                                tops=2, role=f"edges_{name}")
    else:
        first, _, last = ctx.layer("Slice", [blob], {"slice_param": {"axis": axis, "slice_point": [1, size - 1]}},
                                   final=False, tops=3, role=f"edges_{name}")
    return str(ctx.layer("Concat", [first, blob, last], {"concat_param": {"axis": axis}}, final=False,
                         role=f"pad_{name}"))


def hw(params: dict[str, Any], key: str, values: list[int], default: int | None) -> None:
    """Caffe's 2-D spelling: `key: v` when both axes agree (left out when it is the default),
    else `key_h` / `key_w`."""
    h, w = values
    if h == w:
        if h != default:
            params[key if key != "kernel" else "kernel_size"] = h
    else:
        params[f"{key}_h"] = h
        params[f"{key}_w"] = w


def spatial_2d(ctx: Ctx, what: str) -> None:
    if ctx.rank(0) != 4:
        raise UnsupportedOp(f"{what} on a rank-{ctx.rank(0)} tensor: the target writes 2-D (NCHW) {what} only")


def resolve_pads(ctx: Ctx, kernel: list[int], strides: list[int], dil: list[int]) -> list[int]:
    """ONNX pads [h_begin, w_begin, h_end, w_end], with auto_pad resolved from static shapes."""
    auto = ctx.attr("auto_pad", "NOTSET")
    if isinstance(auto, bytes):
        auto = auto.decode()
    n = len(kernel)
    if auto in ("NOTSET", ""):
        pads = list(ctx.attr("pads") or [0] * (2 * n))
        return pads
    if auto == "VALID":
        return [0] * (2 * n)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        shape = ctx.shape(0)
        pads = [0] * (2 * n)
        for i in range(n):
            size = shape[2 + i]
            out = -(-size // strides[i])
            total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - size)
            small, big = total // 2, total - total // 2
            pads[i], pads[n + i] = (small, big) if auto == "SAME_UPPER" else (big, small)
        return pads
    raise UnsupportedOp(f"auto_pad={auto!r} is not an ONNX value")

