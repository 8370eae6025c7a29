def to_float4e2m1(x: torch.Tensor) -> torch.Tensor:
    """ONNX Cast to float4e2m1: round to nearest even, saturate at +-6, NaN (which e2m1 lacks)
    becomes 0; the values are carried in float32, where each is exact."""
    if not x.is_floating_point():
        x = x.float()
    a = x.abs().clamp(max=6.0)
    # e2m1 holds 0, 0.5, 1, 1.5, 2, 3, 4, 6: steps of 0.5 below 2, of 1 below 4, of 2 above
    step = torch.where(a < 2, 0.5, torch.where(a < 4, 1.0, 2.0))
    y = torch.round(a / step) * step  # torch.round rounds half to even
    return torch.copysign(y, x).nan_to_num(nan=0.0).float()
