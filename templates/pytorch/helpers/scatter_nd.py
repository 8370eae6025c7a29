def scatter_nd(data: torch.Tensor, indices: torch.Tensor, updates: torch.Tensor, reduce: str) -> torch.Tensor:
    """ONNX ScatterND with reduction mul, max or min: combine updates into data at the indexed positions."""
    k = indices.shape[-1]
    rows = data.shape[:k]
    # one row index per update into data viewed as (positions, *rest)
    flat = torch.zeros(indices.shape[:-1], dtype=torch.int64, device=data.device)
    for d in range(k):
        flat = flat * rows[d] + indices[..., d] % rows[d]
    out = data.reshape(-1, *data.shape[k:]).clone()
    source = updates.reshape(-1, *data.shape[k:])
    out.index_reduce_(0, flat.flatten(), source, {"mul": "prod", "max": "amax", "min": "amin"}[reduce])
    return out.reshape(data.shape)
