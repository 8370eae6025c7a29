def shift_along(x: torch.Tensor, dim: int, fill: float) -> torch.Tensor:
    """x moved one step forward along `dim`: `fill` enters at the front, the last element drops out."""
    n = x.shape[dim]
    if n == 0:
        return x
    front = torch.full_like(x.narrow(dim, 0, 1), fill)
    return torch.cat([front, x.narrow(dim, 0, n - 1)], dim)
