def onnx_unsqueeze(x: torch.Tensor, axes: list[int]) -> torch.Tensor:
    """ONNX Unsqueeze: insert size-1 dimensions at `axes`, which index the output's dimensions."""
    rank = x.dim() + len(axes)
    for axis in sorted(a % rank for a in axes):
        x = x.unsqueeze(axis)
    return x
