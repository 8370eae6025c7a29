def to_float8e8m0(x: torch.Tensor, saturate: bool = True, round_mode: str = "up") -> torch.Tensor:
    """ONNX Cast to float8e8m0 (a bare power of two): the float32 exponent of |x|, rounded "up",
    "down" or to "nearest" as ONNX's reference does; NaN and inf give NaN (0xFF)."""
    bits = x.float().view(torch.int32)
    exponent = (bits >> 23) & 0xFF
    if round_mode == "up":
        carry = (bits & 0x7FFFFF) != 0
    elif round_mode == "nearest":
        # round bit set, and any lower bit set or a normal number (ties round up)
        carry = ((bits & 0x400000) != 0) & (((bits & 0x3FFFFF) != 0) | (exponent > 0))
    else:
        carry = torch.zeros_like(exponent, dtype=torch.bool)
    if saturate:
        carry &= exponent != 0xFE  # the largest exponent is not rounded up into NaN
    exponent = torch.where(exponent == 0xFF, 0xFF, exponent + carry.int())
    return exponent.to(torch.uint8).view(torch.float8_e8m0fnu)
