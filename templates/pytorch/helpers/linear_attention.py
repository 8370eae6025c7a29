def linear_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    state: torch.Tensor | None = None,
    decay: torch.Tensor | None = None,
    beta: torch.Tensor | None = None,
    scale: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Linear-attention recurrence over (batch, heads, time, dim) tensors; returns (outputs, final state)."""
    if state is None:  # (batch, kv_heads, d_k, d_v)
        state = k.new_zeros(k.shape[0], k.shape[1], k.shape[-1], v.shape[-1])
    groups = q.shape[1] // k.shape[1]  # query heads per key/value head
    outputs = []
    for t in range(q.shape[2]):
        k_t, v_t = k[:, :, t], v[:, :, t]
        if decay is not None:  # gated: S <- exp(g) * S
            state = state * decay[:, :, t].exp().unsqueeze(-1)
        if beta is not None:  # delta rule: write beta * (v - S^T k) instead of v
            v_t = beta[:, :, t] * (v_t - torch.einsum("bhdm,bhd->bhm", state, k_t))
        state = state + k_t.unsqueeze(-1) * v_t.unsqueeze(-2)
        read = state.repeat_interleave(groups, dim=1)
        outputs.append(scale * torch.einsum("bhd,bhdm->bhm", q[:, :, t], read))
    return torch.stack(outputs, dim=2), state
