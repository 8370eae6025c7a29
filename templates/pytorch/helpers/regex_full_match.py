def regex_full_match(x: np.ndarray, pattern: str) -> torch.Tensor:
    """ONNX RegexFullMatch: whether each string matches `pattern` (ASCII classes, as in RE2) entirely."""
    import re

    regex = re.compile(pattern, re.ASCII)
    hits = [regex.fullmatch(s) is not None for s in x.reshape(-1).tolist()]
    return torch.tensor(hits, dtype=torch.bool).reshape(x.shape)
