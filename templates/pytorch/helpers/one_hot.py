def one_hot(indices: torch.Tensor, depth: int, values: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """ONNX OneHot: values[1] where the index matches (negative ones count from depth), else values[0]."""
    indices = indices.long()
    indices = torch.where(indices < 0, indices + depth, indices)
    hot = indices.unsqueeze(-1) == torch.arange(depth, device=indices.device)
    return torch.where(hot, values[1], values[0]).movedim(-1, axis)
