def string_normalizer(x: np.ndarray, stopwords: set[str], case_sensitive: bool, case: str) -> np.ndarray:
    """ONNX StringNormalizer on a [C] or [1, C] string array: drop stop words, then change case."""
    if x.ndim == 2 and x.shape[0] != 1:
        raise ValueError(f"StringNormalizer takes a [C] or [1, C] input, not {list(x.shape)}")
    words = x.reshape(-1).tolist()
    kept = [w for w in words if (w if case_sensitive else w.lower()) not in stopwords]
    if case == "LOWER":
        kept = [w.lower() for w in kept]
    elif case == "UPPER":
        kept = [w.upper() for w in kept]
    out = np.array(kept or [""], dtype=object)  # everything dropped: one empty string
    return out.reshape(1, -1) if x.ndim == 2 else out
