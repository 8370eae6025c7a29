def onnx_pool(
    x: torch.Tensor,
    kind: str,
    kernel: list[int],
    strides: list[int] | None = None,
    pads: list[int] | None = None,
    dilations: list[int] | None = None,
    ceil_mode: bool = False,
    count_include_pad: bool = False,
    p: int = 2,
    storage_order: int = 0,
    return_indices: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """ONNX MaxPool / AveragePool / LpPool for any pads, dilations and ceil_mode (windows via unfold)."""
    n = len(kernel)
    strides = strides or [1] * n
    pads = pads or [0] * (2 * n)
    dilations = dilations or [1] * n
    size = list(x.shape[2:])
    spans = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    outs, ends = [], []
    for i in range(n):
        room = size[i] + pads[i] + pads[n + i] - spans[i]
        out = (-(-room // strides[i]) if ceil_mode else room // strides[i]) + 1
        if ceil_mode and (out - 1) * strides[i] >= size[i] + pads[i]:
            out -= 1  # the last window must start inside the input or its leading padding
        outs.append(out)
        # end padding the windows actually reach: more than `pads` in ceil mode, less if unused
        ends.append((out - 1) * strides[i] + spans[i] - size[i] - pads[i])
    if min(outs) <= 0:  # no window fits
        empty = x.new_zeros(list(x.shape[:2]) + [max(o, 0) for o in outs])
        return (empty, empty.long()) if return_indices else empty

    def windows(t: torch.Tensor, value: float, end_value: float | None = None) -> torch.Tensor:
        """(N, C, *outs, kernel elements): every pooling window, padded with `value`."""
        grow = [max(e - pads[n + i], 0) for i, e in enumerate(ends)]
        pad_arg: list[int] = []
        for i in reversed(range(n)):
            pad_arg += [pads[i], min(ends[i], pads[n + i])]
        t = F.pad(t, pad_arg, value=value)
        if any(grow):  # windows that reach past the declared padding (ceil mode)
            t = F.pad(t, [g for i in reversed(range(n)) for g in (0, grow[i])], value=value if end_value is None else end_value)
        for i in range(n):
            t = t.unfold(2 + i, spans[i], strides[i])
        t = t[(...,) + tuple(slice(None, None, d) for d in dilations)]
        return t.flatten(-n)

    if kind == "max":
        low = -math.inf if x.dtype.is_floating_point else torch.iinfo(x.dtype).min
        values, where = windows(x, low).max(-1)
        if not return_indices:
            return values
        # window-local argmax -> position in the input -> flat index into the whole input
        flat = torch.zeros_like(where)
        place = 1
        order = range(n) if storage_order else reversed(range(n))
        for i in order:
            inner = math.prod(kernel[i + 1:])
            offset = where // inner % kernel[i]
            start = torch.arange(outs[i], device=x.device) * strides[i] - pads[i]
            pos = start.reshape([-1] + [1] * (n - 1 - i)) + offset * dilations[i]
            flat = flat + pos * place
            place *= size[i]
        plane = torch.arange(x.shape[0] * x.shape[1], device=x.device).reshape(x.shape[0], x.shape[1], *[1] * n)
        return values, flat + plane * place
    if kind == "lp":
        return windows(x.abs() ** p, 0.0).sum(-1) ** (1.0 / p)
    total = windows(x, 0.0).sum(-1)
    # divide by the window elements inside the input (or inside input + declared padding)
    ones = torch.ones([1, 1] + size, dtype=x.dtype, device=x.device)
    count = windows(ones, 1.0 if count_include_pad else 0.0, 0.0).sum(-1)
    return total / count
