def onnx_deform_conv(
    x: torch.Tensor,
    weight: torch.Tensor,
    offset: torch.Tensor,
    bias: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    strides: tuple[int, int] = (1, 1),
    pads: tuple[int, int, int, int] = (0, 0, 0, 0),
    dilations: tuple[int, int] = (1, 1),
    groups: int = 1,
    offset_groups: int = 1,
) -> torch.Tensor:
    """ONNX DeformConv (2-D): bilinear samples at offset kernel taps (zero outside), then a grouped conv."""
    n, c, ih, iw = x.shape
    oc, _, kh, kw = weight.shape
    oh, ow = offset.shape[-2:]
    off = offset.reshape(n, offset_groups, kh, kw, 2, oh, ow)
    dev = x.device
    tap_y = (torch.arange(kh, device=dev) * dilations[0])[:, None, None, None]
    tap_x = (torch.arange(kw, device=dev) * dilations[1])[None, :, None, None]
    base_y = (torch.arange(oh, device=dev) * strides[0] - pads[0])[None, None, :, None]
    base_x = (torch.arange(ow, device=dev) * strides[1] - pads[1])[None, None, None, :]
    py = (tap_y + base_y) + off[:, :, :, :, 0]  # (n, offset_groups, kh, kw, oh, ow)
    px = (tap_x + base_x) + off[:, :, :, :, 1]
    y0, x0 = py.floor(), px.floor()
    feats = x.reshape(n, offset_groups, c // offset_groups, ih * iw)
    sampled = 0
    for yy, wy in ((y0, 1 - (py - y0)), (y0 + 1, py - y0)):
        for xx, wx in ((x0, 1 - (px - x0)), (x0 + 1, px - x0)):
            inside = (yy >= 0) & (yy < ih) & (xx >= 0) & (xx < iw)
            index = (yy.clamp(0, ih - 1) * iw + xx.clamp(0, iw - 1)).long().flatten(2)
            vals = feats.gather(3, index[:, :, None].expand(-1, -1, feats.shape[2], -1))
            sampled = sampled + vals * (wy * wx * inside).flatten(2)[:, :, None]
    if mask is not None:
        sampled = sampled * mask.reshape(n, offset_groups, 1, -1)
    cols = sampled.reshape(n, groups, -1, oh * ow)  # (channel, kh, kw) per group
    out = torch.einsum("gok,ngkp->ngop", weight.reshape(groups, oc // groups, -1), cols)
    out = out.reshape(n, oc, oh, ow)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)
