"""Window geometry shared by convolutions and pooling: explicit pads from ONNX attributes."""

from __future__ import annotations

from ..context import Ctx


def spatial_pads(ctx: Ctx, kernel: list[int], strides: list[int], dilations: list[int]) -> list[tuple[int, int]]:
    """(begin, end) per spatial axis, from `pads` or `auto_pad` (SAME_* needs static sizes)."""
    nd = len(kernel)
    auto = ctx.attr("auto_pad", "NOTSET")
    if isinstance(auto, bytes):
        auto = auto.decode()
    if auto in ("NOTSET", ""):
        pads = list(ctx.attr("pads", [0] * (2 * nd)))
        return [(int(pads[i]), int(pads[i + nd])) for i in range(nd)]
    if auto == "VALID":
        return [(0, 0)] * nd
    shape = ctx.shape(0)
    out = []
    for i in range(nd):
        size = shape[2 + i] if shape is not None else None
        if not isinstance(size, int):
            raise ctx.refuse(f"auto_pad={auto} needs static spatial sizes")
        eff = (kernel[i] - 1) * dilations[i] + 1
        total = max((-(-size // strides[i]) - 1) * strides[i] + eff - size, 0)
        small = total // 2
        out.append((small, total - small) if auto == "SAME_UPPER" else (total - small, small))
    return out


def keras_same(pads: list[tuple[int, int]], kernel: list[int], strides: list[int], dilations: list[int]) -> bool:
    """Whether Keras padding='same' gives exactly these pads (stride 1, symmetric)."""
    return all(s == 1 for s in strides) and all(
        (k - 1) * d % 2 == 0 and p == ((k - 1) * d // 2, (k - 1) * d // 2)
        for p, k, d in zip(pads, kernel, dilations)
    )


def padding_arg(pads: list[tuple[int, int]]) -> object:
    """The `padding=` literal of ZeroPadding{1,2,3}D."""
    if len(pads) == 1:
        return pads[0]
    return tuple(pads)
