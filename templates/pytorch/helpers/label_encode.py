def label_encode(
    x: torch.Tensor | np.ndarray, mapping: dict, default: object, dtype: torch.dtype | None = None
) -> torch.Tensor | np.ndarray:
    """ONNX LabelEncoder: each element through `mapping` (`default` when absent); dtype None gives strings."""
    values = [mapping.get(key, default) for key in x.reshape(-1).tolist()]
    if dtype is None:
        return np.array(values, dtype=object).reshape(x.shape)
    return torch.tensor(values, dtype=dtype).reshape(x.shape)
