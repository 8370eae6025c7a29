def uint64_shift_right(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Logical right shift of uint64 values (PyTorch has no uint64 shifts); 0 for shifts >= 64."""
    x, n = x.view(torch.int64), y.view(torch.int64)
    # one step as unsigned clears the sign bit; after that an arithmetic shift is a logical one
    half = (x >> 1) & torch.iinfo(torch.int64).max
    return torch.where(n == 0, x, half >> (n - 1)).view(torch.uint64)
