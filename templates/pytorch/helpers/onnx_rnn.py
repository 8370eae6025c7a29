def onnx_rnn(
    x: torch.Tensor,
    w: torch.Tensor,
    r: torch.Tensor,
    b: torch.Tensor | None = None,
    seq_lens: torch.Tensor | None = None,
    h0: torch.Tensor | None = None,
    direction: str = "forward",
    layout: int = 0,
    activations: list | None = None,
    clip: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """ONNX RNN: Y (seq, dirs, batch, H) and Y_h (dirs, batch, H), for x (seq, batch, input)."""
    # layout 1 is batch first: x (batch, seq, in), states (batch, dirs, H), Y (batch, seq, dirs, H)
    if layout == 1:
        x = x.transpose(0, 1)
        h0 = h0.transpose(0, 1) if h0 is not None else None
    seq, batch, hidden = x.shape[0], x.shape[1], r.shape[-1]
    clamp = (lambda v: v.clamp(-clip, clip)) if clip is not None else (lambda v: v)
    ys, hs = [], []
    for d in range(w.shape[0]):
        f = activations[d] if activations else torch.tanh
        bias = b[d, :hidden] + b[d, hidden:] if b is not None else 0
        x_proj = x @ w[d].T + bias  # the input's share, for all steps at once
        h_t = h0[d] if h0 is not None else x.new_zeros(batch, hidden)
        out: list[torch.Tensor | None] = [None] * seq
        steps = reversed(range(seq)) if direction == "reverse" or d == 1 else range(seq)
        for t in steps:
            h_new = f(clamp(x_proj[t] + h_t @ r[d].T))
            if seq_lens is not None:  # steps past a sequence's end keep its state and output 0
                valid = (t < seq_lens).unsqueeze(1)
                h_new = torch.where(valid, h_new, h_t)
                out[t] = torch.where(valid, h_new, 0)
            else:
                out[t] = h_new
            h_t = h_new
        ys.append(torch.stack(out))
        hs.append(h_t)
    y, y_h = torch.stack(ys, 1), torch.stack(hs)
    if layout == 1:
        return y.permute(2, 0, 1, 3), y_h.transpose(0, 1)
    return y, y_h
