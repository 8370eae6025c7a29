def onnx_lstm(
    x: torch.Tensor,
    w: torch.Tensor,
    r: torch.Tensor,
    b: torch.Tensor | None = None,
    seq_lens: torch.Tensor | None = None,
    h0: torch.Tensor | None = None,
    c0: torch.Tensor | None = None,
    p: torch.Tensor | None = None,
    direction: str = "forward",
    layout: int = 0,
    activations: list | None = None,
    clip: float | None = None,
    input_forget: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """ONNX LSTM, gates (i, o, f, c): Y (seq, dirs, batch, H), Y_h and Y_c (dirs, batch, H)."""
    # layout 1 is batch first: x (batch, seq, in), states (batch, dirs, H), Y (batch, seq, dirs, H)
    if layout == 1:
        x = x.transpose(0, 1)
        h0 = h0.transpose(0, 1) if h0 is not None else None
        c0 = c0.transpose(0, 1) if c0 is not None else None
    seq, batch, hidden = x.shape[0], x.shape[1], r.shape[-1]
    clamp = (lambda v: v.clamp(-clip, clip)) if clip is not None else (lambda v: v)
    ys, hs, cs = [], [], []
    for d in range(w.shape[0]):
        f, g, h = (torch.sigmoid, torch.tanh, torch.tanh)
        if activations:
            f, g, h = activations[3 * d : 3 * d + 3]
        bias = b[d, : 4 * hidden] + b[d, 4 * hidden :] if b is not None else 0
        x_proj = x @ w[d].T + bias  # the input's share of every gate, for all steps at once
        p_i, p_o, p_f = p[d].chunk(3) if p is not None else (0, 0, 0)
        h_t = h0[d] if h0 is not None else x.new_zeros(batch, hidden)
        c_t = c0[d] if c0 is not None else x.new_zeros(batch, hidden)
        out: list[torch.Tensor | None] = [None] * seq
        steps = reversed(range(seq)) if direction == "reverse" or d == 1 else range(seq)
        for t in steps:
            gi, go, gf, gc = (x_proj[t] + h_t @ r[d].T).chunk(4, dim=-1)
            i = f(clamp(gi + p_i * c_t))
            forget = 1 - i if input_forget else f(clamp(gf + p_f * c_t))
            c_new = forget * c_t + i * g(clamp(gc))
            h_new = f(clamp(go + p_o * c_new)) * h(c_new)
            if seq_lens is not None:  # steps past a sequence's end keep its state and output 0
                valid = (t < seq_lens).unsqueeze(1)
                h_new, c_new = torch.where(valid, h_new, h_t), torch.where(valid, c_new, c_t)
                out[t] = torch.where(valid, h_new, 0)
            else:
                out[t] = h_new
            h_t, c_t = h_new, c_new
        ys.append(torch.stack(out))
        hs.append(h_t)
        cs.append(c_t)
    y, y_h, y_c = torch.stack(ys, 1), torch.stack(hs), torch.stack(cs)
    if layout == 1:
        return y.permute(2, 0, 1, 3), y_h.transpose(0, 1), y_c.transpose(0, 1)
    return y, y_h, y_c
