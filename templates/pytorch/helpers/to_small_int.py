def to_small_int(x: torch.Tensor, bits: int, signed: bool) -> torch.Tensor:
    """ONNX Cast to int4 / uint4 / int2 / uint2: truncate toward zero and keep the low `bits` bits
    (two's complement when signed); the values are carried in int8 (signed) or uint8."""
    v = x.to(torch.int32) if x.is_floating_point() else x.to(torch.int64)
    v = v & (2**bits - 1)
    if signed:
        v = torch.where(v >= 2 ** (bits - 1), v - 2**bits, v)
    return v.to(torch.int8 if signed else torch.uint8)
