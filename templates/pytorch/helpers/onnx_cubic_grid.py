def onnx_cubic_grid(grid: torch.Tensor, size: list[int], padding_mode: str, align_corners: bool) -> torch.Tensor:
    """Clamp or reflect out-of-range bicubic sampling points as ONNX does (PyTorch pads only the taps)."""
    dims = torch.tensor(size[::-1], dtype=grid.dtype, device=grid.device)  # grid is (x, y)
    if align_corners:
        pos, low, high = (grid + 1) / 2 * (dims - 1), torch.zeros_like(dims), dims - 1
    else:
        pos, low, high = ((grid + 1) * dims - 1) / 2, torch.full_like(dims, -0.5), dims - 0.5
    if padding_mode == "border":
        moved = torch.minimum(torch.maximum(pos, torch.zeros_like(dims)), dims - 1)
    else:  # reflection: fold back into [low, high] by the nearer border, repeatedly
        span = high - low
        dist = torch.where(pos < low, low - pos, pos - high)
        flips = torch.floor(dist / span)
        rest = dist - flips * span
        from_low = torch.where(pos < low, flips % 2 == 0, flips % 2 == 1)
        moved = torch.where(from_low, low + rest, high - rest)
    pos = torch.where((pos < low) | (pos > high), moved, pos)
    if align_corners:  # a 1-pixel axis maps every point to 0: leave those as they are
        return torch.where(dims > 1, pos / (dims - 1).clamp(min=1) * 2 - 1, grid)
    return (pos * 2 + 1) / dims - 1
