def tensor_scatter(
    cache: torch.Tensor, update: torch.Tensor, write_indices: torch.Tensor | None = None, axis: int = -2,
    circular: bool = False,
) -> torch.Tensor:
    """ONNX TensorScatter: write `update` into `cache` along `axis`, from write_indices[b] on for batch entry b."""
    axis = axis % cache.dim()
    length = update.shape[axis]
    if write_indices is None:
        write_indices = torch.zeros(cache.shape[0], dtype=torch.int64, device=cache.device)
    positions = write_indices.long().unsqueeze(1) + torch.arange(length, device=cache.device)
    if circular:
        positions = positions % cache.shape[axis]
    shape = [cache.shape[0]] + [1] * (cache.dim() - 1)
    shape[axis] = length
    return cache.scatter(axis, positions.reshape(shape).expand_as(update), update)
