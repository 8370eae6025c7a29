def string_split(x: np.ndarray, sep: str | None, maxsplit: int = -1) -> tuple[np.ndarray, torch.Tensor]:
    """ONNX StringSplit: split every string, pad the parts with "" to the longest, count them."""
    parts = [s.split(sep, maxsplit) for s in x.reshape(-1).tolist()]
    width = max((len(p) for p in parts), default=0)
    out = np.full((len(parts), width), "", dtype=object)
    for i, p in enumerate(parts):
        out[i, : len(p)] = p
    counts = torch.tensor([len(p) for p in parts], dtype=torch.int64)
    return out.reshape(*x.shape, width), counts.reshape(x.shape)
