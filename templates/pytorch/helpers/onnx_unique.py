def onnx_unique(
    x: torch.Tensor, axis: int | None = None, sort: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """ONNX Unique: the unique values (or slices along `axis`), the index of each one's first
    occurrence, the inverse indices and the counts; in first-occurrence order unless `sort`."""
    if axis is None:
        x, axis = x.flatten(), 0
    values, inverse, counts = torch.unique(x, sorted=True, return_inverse=True, return_counts=True, dim=axis)
    positions = torch.arange(x.shape[axis], device=x.device)
    # the first occurrence of a unique value is the smallest position that maps to it
    first = torch.full_like(counts, x.shape[axis]).scatter_reduce(0, inverse, positions, reduce="amin")
    if not sort:
        order = first.argsort()
        values, first, counts = values.index_select(axis, order), first[order], counts[order]
        inverse = order.argsort()[inverse]
    return values, first, inverse, counts
