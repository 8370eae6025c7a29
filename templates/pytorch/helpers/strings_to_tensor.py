def strings_to_tensor(x: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """ONNX Cast from string: plain or scientific numbers, "INF", "+INF", "-INF" and "NaN" in any
    case; a fraction cast to an integer type is truncated."""
    words = [str(w).strip() for w in x.reshape(-1).tolist()]
    if dtype.is_floating_point or dtype == torch.bool:
        values = torch.tensor([float(w) for w in words], dtype=torch.float64)
        return values.to(dtype).reshape(x.shape)
    ints = [int(w) if w.lstrip("+-").isdigit() else int(float(w)) for w in words]
    return torch.tensor(ints, dtype=dtype).reshape(x.shape)
