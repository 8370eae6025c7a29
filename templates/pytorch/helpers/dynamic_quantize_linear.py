def dynamic_quantize_linear(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """ONNX DynamicQuantizeLinear: uint8 quantization over the range of x widened to include 0;
    returns (y, y_scale, y_zero_point)."""
    high = x.max().clamp(min=0)
    low = x.min().clamp(max=0)
    scale = torch.where(high == low, 1.0, high - low) / 255
    zero_point = torch.round(torch.clamp(-low / scale, 0, 255))
    y = torch.clamp(torch.round(x / scale) + zero_point, 0, 255)
    return y.to(torch.uint8), scale, zero_point.to(torch.uint8)
