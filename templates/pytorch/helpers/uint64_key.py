def uint64_key(x: torch.Tensor) -> torch.Tensor:
    """uint64 values as int64 keys in the same order (PyTorch cannot compare uint64 tensors)."""
    # flipping the top bit maps 0 .. 2**64-1 monotonically onto -2**63 .. 2**63-1
    return x.view(torch.int64) ^ torch.iinfo(torch.int64).min
