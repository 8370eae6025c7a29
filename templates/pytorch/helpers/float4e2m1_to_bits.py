def float4e2m1_to_bits(x: torch.Tensor) -> torch.Tensor:
    """The 4-bit patterns (sign, 2 exponent bits, 1 mantissa bit) of float4e2m1 values carried in
    float32, as uint8."""
    magnitudes = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0], device=x.device)
    code = torch.searchsorted(magnitudes, x.abs().float().contiguous())
    return (code + 8 * torch.signbit(x).long()).to(torch.uint8)
