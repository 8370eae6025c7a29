def gather_nd(data: torch.Tensor, indices: torch.Tensor, batch_dims: int) -> torch.Tensor:
    """ONNX GatherND with batch dimensions: entry b of indices addresses entry b of data."""
    batch = data.shape[:batch_dims]
    data, indices = data.flatten(0, batch_dims - 1), indices.flatten(0, batch_dims - 1)
    rows = torch.arange(data.shape[0], device=data.device).reshape(-1, *[1] * (indices.dim() - 2))
    out = data[(rows, *indices.unbind(-1))]
    return out.reshape(*batch, *out.shape[1:])
