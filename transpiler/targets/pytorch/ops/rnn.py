"""Recurrent layers: LSTM."""

from __future__ import annotations

import numpy as np

from ....errors import UnsupportedOp
from ..context import Ctx, Unpack, call, lit
from . import TABLE


@TABLE.op("LSTM")
def lstm(ctx: Ctx) -> str | Unpack:
    """nn.LSTM with ONNX's gate order (i, o, f, c) reordered to PyTorch's (i, f, g, o)."""
    if ctx.attr("activations") not in (None, ["Sigmoid", "Tanh", "Tanh"] * 2, ["Sigmoid", "Tanh", "Tanh"]):
        raise UnsupportedOp("non-default activations have no nn.LSTM equivalent")
    if ctx.attr("clip") is not None or ctx.attr("input_forget", 0):
        raise UnsupportedOp("clip / input_forget have no nn.LSTM equivalent")
    w, r = ctx.const(1), ctx.const(2)
    b = ctx.const(3) if ctx.has(3) else None
    if w is None or r is None or (ctx.has(3) and b is None):
        raise UnsupportedOp("W, R and B must be constants")
    if ctx.has(4):
        raise UnsupportedOp("sequence_lens is not supported")
    if ctx.has(7) and ctx.const(7) is not None and np.any(ctx.const(7)):
        raise UnsupportedOp("peephole connections have no nn.LSTM equivalent")
    direction = ctx.attr("direction", "forward")
    dirs, hidden4, in_size = w.shape
    hidden = hidden4 // 4
    order = np.concatenate([np.arange(0, hidden), np.arange(2 * hidden, 3 * hidden),
                            np.arange(3 * hidden, 4 * hidden), np.arange(hidden, 2 * hidden)])
    if b is None:
        b = np.zeros((dirs, 8 * hidden), dtype=w.dtype)
    params = {}
    for d in range(dirs):
        suffix = "_reverse" if d == 1 else ""
        params[f"weight_ih_l0{suffix}"] = w[d][order]
        params[f"weight_hh_l0{suffix}"] = r[d][order]
        params[f"bias_ih_l0{suffix}"] = b[d][: 4 * hidden][order]
        params[f"bias_hh_l0{suffix}"] = b[d][4 * hidden:][order]
    layout = ctx.attr("layout", 0)
    kwargs: dict = {}
    if layout:
        kwargs["batch_first"] = True
    if direction == "bidirectional":
        kwargs["bidirectional"] = True
    m = ctx.module(call("nn.LSTM", lit(int(in_size)), lit(int(hidden)), **kwargs), params)
    x = ctx.x(0)
    seq_dim = 1 if layout else 0
    if direction == "reverse":
        x = f"{x}.flip({seq_dim})"
    state = ""
    if ctx.has(5) or ctx.has(6):
        batch_dim = 0 if layout else 1
        h0 = ctx.x(5) if ctx.has(5) else None
        c0 = ctx.x(6) if ctx.has(6) else None
        if h0 is None or c0 is None:
            raise UnsupportedOp("initial_h and initial_c must be given together")
        if layout:
            h0, c0 = f"{h0}.transpose(0, 1)", f"{c0}.transpose(0, 1)"
        state = f", ({h0}, {c0})"
        del batch_dim
    y, h, c = ctx.tmp("y"), ctx.tmp("h"), ctx.tmp("c")
    ctx.stmt(f"{y}, ({h}, {c}) = {m}({x}{state})")
    if direction == "reverse":
        ctx.stmt(f"{y} = {y}.flip({seq_dim})")
    outs: list[str | None] = [None, None, None]
    if ctx.has_out(0):
        if layout:  # (batch, seq, dirs*H) -> (batch, seq, dirs, H)
            outs[0] = f"{y}.unflatten(2, ({dirs}, {hidden}))"
        else:  # (seq, batch, dirs*H) -> (seq, dirs, batch, H)
            outs[0] = f"{y}.unflatten(2, ({dirs}, {hidden})).transpose(1, 2)"
    if ctx.has_out(1):
        outs[1] = f"{h}.transpose(0, 1)" if layout else h
    if ctx.has_out(2):
        outs[2] = f"{c}.transpose(0, 1)" if layout else c
    return outs
