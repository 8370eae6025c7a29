def onnx_col2im(
    x: torch.Tensor,
    image_shape: list[int],
    block_shape: list[int],
    dilations: list[int] | None = None,
    pads: list[int] | None = None,
    strides: list[int] | None = None,
) -> torch.Tensor:
    """ONNX Col2Im for any number of spatial axes: sum each column back into its block."""
    n = len(image_shape)
    dilations = dilations or [1] * n
    pads = pads or [0] * (2 * n)
    strides = strides or [1] * n
    padded = [image_shape[i] + pads[i] + pads[n + i] for i in range(n)]
    blocks = [(padded[i] - (block_shape[i] - 1) * dilations[i] - 1) // strides[i] + 1 for i in range(n)]
    # flat index into the padded image of (block element, block position), both row-major
    index = torch.zeros((), dtype=torch.long, device=x.device)
    for i in range(n):
        pos = (
            torch.arange(block_shape[i], device=x.device)[:, None] * dilations[i]
            + torch.arange(blocks[i], device=x.device)[None, :] * strides[i]
        )
        index = index[..., None, None] * padded[i] + pos
    # index dims are (k1, l1, k2, l2, ...): reorder to (k1, k2, ..., l1, l2, ...)
    index = index.permute(*range(0, 2 * n, 2), *range(1, 2 * n, 2)).flatten()
    cols = x.reshape(x.shape[0], -1, index.numel())
    out = x.new_zeros(cols.shape[0], cols.shape[1], math.prod(padded)).index_add_(2, index, cols)
    out = out.reshape(cols.shape[0], cols.shape[1], *padded)
    return out[(..., *[slice(pads[i], pads[i] + image_shape[i]) for i in range(n)])]
