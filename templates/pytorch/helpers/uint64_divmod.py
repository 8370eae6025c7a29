def uint64_divmod(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Unsigned 64-bit quotient and remainder, computed on int64 bits (PyTorch lacks uint64 division)."""
    a, b = torch.broadcast_tensors(a.view(torch.int64), b.view(torch.int64))
    top = torch.iinfo(torch.int64).min
    # halve a as unsigned so it is a non-negative int64, divide, double: off by at most one
    q = torch.div((a >> 1) & torch.iinfo(torch.int64).max, b, rounding_mode="trunc") << 1
    r = a - q * b
    q = torch.where((r ^ top) >= (b ^ top), q + 1, q)
    # a divisor of 2**63 or more goes into a at most once
    q = torch.where(b < 0, ((a ^ top) >= (b ^ top)).to(torch.int64), q)
    return q.view(torch.uint64), (a - q * b).view(torch.uint64)
