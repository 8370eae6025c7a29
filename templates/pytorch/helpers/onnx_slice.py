def onnx_slice(
    x: torch.Tensor, starts: list[int], ends: list[int], axes: list[int] | None = None, steps: list[int] | None = None
) -> torch.Tensor:
    """ONNX Slice: bounds are clamped to each axis, and a negative step walks the axis backwards."""
    axes = list(range(len(starts))) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = axis % x.dim()
        size = x.shape[axis]
        start = start + size if start < 0 else start
        end = end + size if end < 0 else end
        before = (slice(None),) * axis
        if step > 0:
            x = x[before + (slice(min(max(start, 0), size), min(max(end, 0), size), step),)]
        else:
            # clamp as ONNX does for a backward walk, then walk the flipped axis forwards
            start, end = min(max(start, 0), size - 1), min(max(end, -1), size - 1)
            x = x.flip(axis)[before + (slice(size - 1 - start, size - 1 - end, -step),)]
    return x
