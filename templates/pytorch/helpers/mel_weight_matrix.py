def mel_weight_matrix(
    num_mel_bins: int,
    dft_length: int,
    sample_rate: int,
    lower_edge_hertz: float,
    upper_edge_hertz: float,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """ONNX MelWeightMatrix: triangular filters mapping a one-sided spectrum onto mel bins."""
    low_mel = 2595 * math.log1p(lower_edge_hertz / 700) / math.log(10)
    high_mel = 2595 * math.log1p(upper_edge_hertz / 700) / math.log(10)
    mel_step = (high_mel - low_mel) / (num_mel_bins + 2)
    # the filter edges: equally spaced in mel, then as spectrum bin indices
    edges = []
    for k in range(num_mel_bins + 2):
        hertz = 700 * math.expm1((k * mel_step + low_mel) / 2595 * math.log(10))
        edges.append(int((dft_length + 1) * hertz // sample_rate))
    weights = torch.zeros(dft_length // 2 + 1, num_mel_bins, dtype=torch.float64)
    for i in range(num_mel_bins):
        left, center, right = edges[i], edges[i + 1], edges[i + 2]
        if center == left:
            weights[center, i] = 1
        else:
            for j in range(left, center + 1):
                weights[j, i] = (j - left) / (center - left)
        for j in range(center, right):
            weights[j, i] = (right - j) / (right - center)
    return weights.to(dtype)
