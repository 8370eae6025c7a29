def onnx_max_unpool(
    x: torch.Tensor,
    indices: torch.Tensor,
    kernel: list[int],
    strides: list[int] | None = None,
    pads: list[int] | None = None,
    output_shape: list[int] | None = None,
) -> torch.Tensor:
    """ONNX MaxUnpool: scatter x into zeros at indices into the whole flattened output."""
    n = len(kernel)
    strides = strides or [1] * n
    pads = pads or [0] * (2 * n)
    shape = list(x.shape[:2]) + [
        (x.shape[2 + i] - 1) * strides[i] - pads[i] - pads[n + i] + kernel[i] for i in range(n)
    ]
    y = x.new_zeros(math.prod(shape)).scatter(0, indices.flatten(), x.flatten()).reshape(shape)
    if output_shape is None or list(output_shape) == shape:
        return y
    # a larger output_shape keeps the unpooled values in its leading corner
    grow = [0 for _ in range(2)] + [int(o) - s for o, s in zip(list(output_shape)[2:], shape[2:])]
    return F.pad(y, [g for i in reversed(range(len(shape))) for g in (0, grow[i])])
