def center_crop_pad(x: torch.Tensor, shape: list[int], axes: list[int] | None = None) -> torch.Tensor:
    """ONNX CenterCropPad: crop or zero-pad each of `axes` (default: all) to `shape`, centred."""
    axes = list(range(x.dim())) if axes is None else [a % x.dim() for a in axes]
    for axis, target in zip(axes, shape):
        size = x.shape[axis]
        if target < size:
            x = x.narrow(axis, (size - target) // 2, target)
        elif target > size:
            before = (target - size) // 2
            x = F.pad(x, [0, 0] * (x.dim() - 1 - axis) + [before, target - size - before])
    return x
