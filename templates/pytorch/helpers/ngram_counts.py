def ngram_counts(
    x: torch.Tensor, grams: torch.Tensor, columns: torch.Tensor, size: int, max_skip: int = 0
) -> torch.Tensor:
    """How often each n-gram (a row of `grams`) occurs in each row of x, its items up to
    `max_skip` apart, added into `columns` of a [rows, size] float tensor (ONNX TfIdfVectorizer)."""
    rows = x.reshape(1, -1) if x.dim() < 2 else x
    n = grams.shape[1]
    counts = torch.zeros(rows.shape[0], size)
    for skip in range(max_skip + 1):
        span = (n - 1) * (skip + 1) + 1
        if span > rows.shape[1]:
            break
        windows = rows.unfold(1, span, 1)[:, :, :: skip + 1]  # [rows, starts, n]
        hits = (windows.unsqueeze(2) == grams).all(-1).sum(1)  # [rows, len(grams)]
        counts.index_add_(1, columns, hits.float())
    return counts if x.dim() == 2 else counts[0]
