def onnx_roi_align(
    x: torch.Tensor,
    rois: torch.Tensor,
    batch_indices: torch.Tensor,
    output_size: tuple[int, int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = 0,
    mode: str = "avg",
    half_pixel: bool = True,
) -> torch.Tensor:
    """ONNX RoiAlign: bilinear samples on a regular grid in each bin, averaged (or max-pooled)."""
    height, width = x.shape[2], x.shape[3]
    out_h, out_w = output_size
    shift = 0.5 if half_pixel else 0.0
    results = []
    for roi, b in zip(rois.tolist(), batch_indices.tolist()):
        x0, y0, x1, y1 = (v * spatial_scale - shift for v in roi)
        roi_w, roi_h = x1 - x0, y1 - y0
        if not half_pixel:  # malformed boxes become 1x1
            roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
        grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_h / out_h)
        grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_w / out_w)

        def axis(start: float, size: float, bins: int, grid: int, limit: int) -> tuple:
            """Sample positions along one axis -> (low index, high index, low weight, high weight)."""
            step = size / bins
            p = torch.arange(bins, device=x.device)[:, None] * step + (torch.arange(grid, device=x.device) + 0.5) * step / grid
            p = (start + p).flatten().to(x.dtype)
            inside = (p >= -1.0) & (p <= limit)
            p = p.clamp(min=0)
            low = p.long()
            edge = low >= limit - 1
            low = torch.where(edge, limit - 1, low)
            high = torch.where(edge, limit - 1, low + 1)
            p = torch.where(edge, low.to(p.dtype), p)
            frac = p - low
            keep = inside.to(p.dtype)
            return low, high, (1 - frac) * keep, frac * keep

        yl, yh, wy0, wy1 = axis(y0, roi_h, out_h, grid_h, height)
        xl, xh, wx0, wx1 = axis(x0, roi_w, out_w, grid_w, width)
        feat = x[b]
        terms = [
            wy[:, None] * wx[None, :] * feat[:, ys][:, :, xs]
            for ys, wy in ((yl, wy0), (yh, wy1))
            for xs, wx in ((xl, wx0), (xh, wx1))
        ]
        shape = (x.shape[1], out_h, grid_h, out_w, grid_w)
        if mode == "avg":
            results.append(sum(terms).reshape(shape).sum((2, 4)) / max(grid_h * grid_w, 1))
        else:  # ONNX's max mode: the largest weighted corner over all samples of a bin
            results.append(torch.stack(terms).amax(0).reshape(shape).amax((2, 4)))
    if not results:
        return x.new_zeros((0, x.shape[1], out_h, out_w))
    return torch.stack(results)
