def onnx_pad(
    x: torch.Tensor, pads: list[int], axes: list[int] | None = None, mode: str = "constant", value: float = 0
) -> torch.Tensor:
    """ONNX Pad: pads are [begin..., end...] for `axes` (default: all); a negative pad crops."""
    axes = list(range(x.dim())) if axes is None else [a % x.dim() for a in axes]
    n = len(axes)
    if mode == "constant":
        widths = [0] * (2 * x.dim())  # F.pad's order: last axis first, (begin, end) pairs
        for k, axis in enumerate(axes):
            widths[2 * (x.dim() - 1 - axis)] = pads[k]
            widths[2 * (x.dim() - 1 - axis) + 1] = pads[n + k]
        return F.pad(x, widths, value=value)
    for k, axis in enumerate(axes):
        # negative pads crop first (as onnxruntime does); the positive ones then pad what is left
        begin, end = pads[k], pads[n + k]
        x = x.narrow(axis, max(-begin, 0), x.shape[axis] - max(-begin, 0) - max(-end, 0))
        size = x.shape[axis]
        # the source position of every output position along this axis
        index = torch.arange(-max(begin, 0), size + max(end, 0), device=x.device)
        if mode == "edge":
            index = index.clamp(0, size - 1)
        elif mode == "wrap":
            index = index % size
        else:  # reflect: mirror at both ends without repeating the edge, period 2 * (size - 1)
            period = max(2 * (size - 1), 1)
            index = index % period
            index = torch.where(index >= size, period - index, index)
        x = x.index_select(axis, index)
    return x
