def onnx_flat_indices(indices: torch.Tensor, shape: torch.Size, column_major: bool = False) -> torch.Tensor:
    """PyTorch's max-pool indices (within each plane) -> ONNX's (into the whole flattened input)."""
    spatial = list(shape[2:])
    if column_major:  # ONNX storage_order=1: the first spatial axis varies fastest
        flat, rest, place = torch.zeros_like(indices), indices, 1
        coords = []
        for d in reversed(spatial):
            coords.append(rest % d)
            rest = rest // d
        for d, c in zip(spatial, reversed(coords)):
            flat = flat + c * place
            place *= d
        indices = flat
    plane = torch.arange(shape[0] * shape[1], device=indices.device) * math.prod(spatial)
    return indices + plane.reshape(shape[0], shape[1], *[1] * len(spatial))
