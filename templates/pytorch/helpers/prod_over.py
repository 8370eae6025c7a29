def prod_over(x: torch.Tensor, dims: tuple[int, ...], keepdim: bool = False, dtype: torch.dtype | None = None) -> torch.Tensor:
    """torch.prod over several dimensions (all of them when `dims` is empty)."""
    dims = tuple(d % x.dim() for d in dims) or tuple(range(x.dim()))
    for d in sorted(dims, reverse=True):  # the highest first, so the lower indices stay valid
        x = torch.prod(x, d, keepdim=keepdim, dtype=dtype)
    return x
