def onnx_resize(
    x: torch.Tensor,
    scales: list[float] | None = None,
    sizes: list[int] | None = None,
    *,
    roi: torch.Tensor | None = None,
    axes: list[int] | None = None,
    mode: str = "nearest",
    coordinate_transformation_mode: str = "half_pixel",
    nearest_mode: str = "round_prefer_floor",
    cubic_coeff_a: float = -0.75,
    exclude_outside: bool = False,
    extrapolation_value: float = 0.0,
    antialias: bool = False,
    keep_aspect_ratio_policy: str = "stretch",
) -> torch.Tensor:
    """ONNX Resize: separable nearest / linear / cubic interpolation, one axis at a time."""
    rank = x.dim()
    axes = list(range(rank)) if axes is None else [a % rank for a in axes]
    in_shape = list(x.shape)
    if sizes:
        scale = {a: sizes[i] / in_shape[a] for i, a in enumerate(axes)}
        out = {a: int(sizes[i]) for i, a in enumerate(axes)}
        if keep_aspect_ratio_policy != "stretch":
            pick = min if keep_aspect_ratio_policy == "not_larger" else max
            s = pick(scale.values())
            scale = {a: s for a in axes}
            out = {a: int(s * in_shape[a] + 0.5) for a in axes}
    else:
        scale = {a: float(scales[i]) for i, a in enumerate(axes)}
        out = {a: int(scale[a] * in_shape[a]) for a in axes}
    # Coordinates and weights in float64, as the ONNX reference computes them.
    y = x if mode == "nearest" else x.to(torch.float64)
    for i, a in enumerate(axes):
        n_in, n_out, s = y.shape[a], out[a], scale[a]
        r0 = r1 = None
        if coordinate_transformation_mode == "tf_crop_and_resize":
            r0, r1 = roi[i], roi[len(axes) + i]
        elif math.isclose(s, 1.0) and n_out == n_in:
            continue  # identity along this axis
        width = s * n_in  # the unrounded output length some modes use
        d = torch.arange(n_out, dtype=torch.float64, device=x.device)
        ctm = coordinate_transformation_mode
        if ctm == "align_corners":
            src = torch.zeros_like(d) if width == 1 else d * (n_in - 1) / (width - 1)
        elif ctm == "asymmetric":
            src = d / s
        elif ctm == "tf_crop_and_resize":
            if width == 1:
                src = torch.zeros_like(d) + (r1 - r0) * (n_in - 1) / 2
            else:
                src = d * (r1 - r0) * (n_in - 1) / (width - 1)
            src = src + r0 * (n_in - 1)
        elif ctm == "pytorch_half_pixel":
            src = torch.full_like(d, -0.5) if width == 1 else (d + 0.5) / s - 0.5
        elif ctm == "half_pixel":
            src = (d + 0.5) / s - 0.5
        elif ctm == "half_pixel_symmetric":
            src = n_in / 2 * (1 - n_out / width) + (d + 0.5) / s - 0.5
        elif ctm == "tf_half_pixel_for_nn":
            src = (d + 0.5) / s
        else:
            raise ValueError(f"unknown coordinate_transformation_mode {ctm!r}")
        base = torch.floor(src)
        exact = src == base
        ratio = torch.where(exact, 1.0, src - base)  # in (0, 1]: from the sample at or left of src
        if mode == "nearest":
            reach, shrink = 1, 1.0
        else:
            shrink = min(s, 1.0) if antialias else 1.0
            reach = 1 if mode == "linear" else 2
        first = int(math.floor(-reach / shrink) + 1)  # the window's first tap, relative to src
        taps = torch.arange(first, 2 - first, device=x.device)
        # the window's first sample, located as the ONNX reference does (on src + half the
        # window, which can round differently from src itself next to an integer)
        half = len(taps) // 2
        shifted = src + half
        start = torch.floor(shifted).long() - half + (shifted != torch.floor(shifted)).long() - half
        idx = start[:, None] + torch.arange(len(taps), device=x.device)  # (n_out, taps)
        if mode == "nearest":
            if nearest_mode == "round_prefer_floor":
                step = ratio > 0.5
            elif nearest_mode == "round_prefer_ceil":
                step = ratio >= 0.5
            else:
                step = torch.full_like(exact, nearest_mode == "ceil")
            pick = (step | exact).long()
            res = y.index_select(a, idx.gather(1, pick[:, None])[:, 0].clamp(0, n_in - 1))
        else:
            t = ((taps - ratio[:, None]) * shrink).abs()
            if mode == "linear":
                w = (1 - t).clamp(0, 1)
            else:
                aa = cubic_coeff_a
                w = torch.where(
                    t <= 1,
                    (aa + 2) * t**3 - (aa + 3) * t**2 + 1,
                    torch.where(t < 2, aa * t**3 - 5 * aa * t**2 + 8 * aa * t - 4 * aa, 0.0),
                )
            if antialias:
                w = w / w.sum(-1, keepdim=True)
            if exclude_outside:
                w = torch.where((idx < 0) | (idx >= n_in), 0.0, w)
                total = w.sum(-1, keepdim=True)
                w = w / torch.where(total == 0, 1.0, total)
            picked = y.index_select(a, idx.clamp(0, n_in - 1).flatten())
            picked = picked.unflatten(a, idx.shape)
            res = (picked * w.reshape(idx.shape + (1,) * (rank - a - 1))).sum(a + 1)
        if r0 is not None:
            outside = ((src < 0) | (src > n_in - 1)).reshape((-1,) + (1,) * (rank - a - 1))
            fill = extrapolation_value
            if not res.dtype.is_floating_point and res.dtype != torch.bool:  # as a cast would round it
                fill = min(max(round(fill), torch.iinfo(res.dtype).min), torch.iinfo(res.dtype).max)
            res = res.masked_fill(outside, fill)
        y = res
    if y.dtype == x.dtype:
        return y
    if x.dtype.is_floating_point:
        return y.to(x.dtype)
    info = torch.iinfo(x.dtype)
    return y.round().clamp(info.min, info.max).to(x.dtype)
