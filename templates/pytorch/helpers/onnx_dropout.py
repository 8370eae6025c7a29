def onnx_dropout(
    x: torch.Tensor, p: float, training: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """ONNX Dropout with its mask: in training, keep each element with probability 1 - p."""
    if not training or p == 0:
        return x, torch.ones_like(x, dtype=torch.bool)
    mask = torch.rand_like(x) >= p
    return x * mask / (1 - p), mask
