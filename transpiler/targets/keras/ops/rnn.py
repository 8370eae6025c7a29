"""Recurrent layers: LSTM, GRU and RNN as `keras.layers.LSTM` / `GRU` / `SimpleRNN`, one layer
per direction. ONNX LSTM gates i, o, f, c become Keras's i, f, c, o (GRU's z, r, h are the same
order in both); biases are summed where Keras keeps one, and GRU's linear_before_reset=1 is
Keras's reset_after=True with its separate input and recurrent biases. What the layers cannot
hold (weights given at run time, other activations, clip, sequence_lens, peepholes, ...) is
written out step by step instead (_recurrence.py)."""

from __future__ import annotations

import numpy as np

from ..context import FLOATS, Ctx, call, lit
from . import TABLE
from ._recurrence import DEFAULT_ACTS, GATES, unrolled

CELLS = {"LSTM": ("layers.LSTM", "lstm_cell"), "GRU": ("layers.GRU", "gru_cell"), "RNN": ("layers.SimpleRNN", "simple_rnn_cell")}


def _reorder(op: str, w: np.ndarray, h: int) -> np.ndarray:
    """Gate blocks along the first axis, from ONNX order to Keras order."""
    if op != "LSTM":
        return w
    i, o, f, c = (w[k * h:(k + 1) * h] for k in range(4))
    return np.concatenate([i, f, c, o], axis=0)


def _layer_obstacle(ctx: Ctx) -> str | None:
    """Why the node cannot be a Keras recurrent layer (None: it can)."""
    op = ctx.node.op_type
    want = DEFAULT_ACTS[op]
    acts = [(a.decode() if isinstance(a, bytes) else a).lower() for a in ctx.attr("activations", [])]
    if acts and any(acts[k] != want[k % len(want)] for k in range(len(acts))):
        return f"activations {acts} (Keras {op} uses {', '.join(want)})"
    for attr in ("activation_alpha", "activation_beta", "clip"):
        if ctx.attr(attr) is not None:
            return f"attribute {attr}"
    if ctx.attr("input_forget", 0):
        return "input_forget=1"
    if ctx.has(4):
        return "sequence_lens"
    if op == "LSTM" and ctx.n_in > 7 and ctx.has(7):
        return "peepholes"
    for i, what in ((1, "W"), (2, "R"), (3, "B")):
        if ctx.has(i) and ctx.const(i) is None:
            return f"{what} is not a constant"
    return None


@TABLE.op("LSTM", "GRU", "RNN")
def recurrent(ctx: Ctx) -> list[str | None]:
    op = ctx.node.op_type
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse(f"{op} of integers")
    why = _layer_obstacle(ctx)
    if why is not None:
        return unrolled(ctx, why)
    w, r = ctx.need_const(1, "W"), ctx.need_const(2, "R")
    b = ctx.const(3) if ctx.has(3) else None
    hidden = int(ctx.attr("hidden_size", r.shape[-1]))
    gates = GATES[op]
    direction = ctx.attr("direction", "forward")
    if isinstance(direction, bytes):
        direction = direction.decode()
    dirs = 2 if direction == "bidirectional" else 1
    layout = int(ctx.attr("layout", 0))
    reset_after = op == "GRU" and bool(ctx.attr("linear_before_reset", 0))
    x = ctx.x(0)
    # Keras RNNs read (batch, time, features)
    xb = x if layout == 1 else ctx.assign("x_bt", f"ops.transpose({x}, (1, 0, 2))")
    n_states = 2 if op == "LSTM" else 1
    init: list[str | None] = []
    for k in (5, 6)[:n_states]:
        c = ctx.const(k) if ctx.has(k) else None
        if not ctx.has(k) or (c is not None and not np.any(c)):
            init.append(None)
        else:
            v = ctx.x(k)
            init.append(v if layout == 0 else f"ops.transpose({v}, (1, 0, 2))")
    if any(s is not None for s in init) and any(s is None for s in init):
        given = next(s for s in init if s is not None)
        init = [s or f"ops.zeros_like({given})" for s in init]
    ctor, cell = CELLS[op]
    seqs: list[str] = []
    finals: list[list[str]] = [[] for _ in range(n_states)]
    for d in range(dirs):
        backwards = direction == "reverse" or d == 1
        weights = {
            f"{cell}/kernel": _reorder(op, w[d], hidden).T,
            f"{cell}/recurrent_kernel": _reorder(op, r[d], hidden).T,
        }
        kw: dict = {"return_sequences": True, "return_state": True}
        if op == "GRU":
            kw["reset_after"] = reset_after
        if b is not None:
            wb, rb = b[d, : gates * hidden], b[d, gates * hidden:]
            if reset_after:
                weights[f"{cell}/bias"] = np.stack([wb, rb])
            else:
                weights[f"{cell}/bias"] = _reorder(op, wb + rb, hidden)
        else:
            kw["use_bias"] = False
        if backwards:
            kw["go_backwards"] = True
        layer = ctx.layer(call(ctor, lit(hidden), **kw), weights)
        state = ""
        if init[0] is not None:
            state = f", initial_state=[{', '.join(f'{s}[{d}]' for s in init)}]"
        names = [ctx.tmp("seq")] + [ctx.tmp(n) for n in ("h", "c")[:n_states]]
        ctx.stmt(f"{', '.join(names)} = {layer}({xb}{state})")
        seq = names[0]
        if backwards:
            seq = f"ops.flip({seq}, axis=1)"  # Keras returns a backward pass in reversed time order
        seqs.append(seq)
        for k in range(n_states):
            finals[k].append(names[1 + k])
    # ONNX Y: (time, dirs, batch, hidden) or with layout=1 (batch, time, dirs, hidden)
    y = f"ops.stack([{', '.join(seqs)}], axis=2)"
    y = f"ops.transpose({y}, (1, 2, 0, 3))" if layout == 0 else y
    outs: list[str | None] = [y]
    for k in range(n_states):
        outs.append(f"ops.stack([{', '.join(finals[k])}], axis={0 if layout == 0 else 1})")
    return outs
