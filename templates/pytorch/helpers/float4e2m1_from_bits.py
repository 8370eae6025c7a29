def float4e2m1_from_bits(bits: torch.Tensor) -> torch.Tensor:
    """float4e2m1 values (carried in float32) from their 4-bit patterns (sign, 2 exponent bits,
    1 mantissa bit)."""
    magnitudes = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0], device=bits.device)
    value = magnitudes[(bits & 7).long()]
    return torch.where((bits & 8) != 0, -value, value)
