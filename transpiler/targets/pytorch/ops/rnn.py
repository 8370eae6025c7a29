"""Recurrent layers: LSTM, GRU, RNN.

With constant weights and attributes PyTorch's layers share, they become nn.LSTM / nn.GRU /
nn.RNN (gates reordered: ONNX LSTM (i, o, f, c) -> PyTorch (i, f, g, o), GRU (z, r, h) ->
(r, z, n); PyTorch's GRU is ONNX's linear_before_reset=1). Everything else (runtime weights,
other activations, clip, peepholes, sequence_lens, linear_before_reset=0) runs an explicit
loop helper with ONNX's equations.
"""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..context import Code, Ctx, Unpack, call, lit
from . import TABLE

# op -> (number of gates, default activations of one direction, ONNX gate -> PyTorch gate order)
SPECS = {
    "LSTM": (4, ["sigmoid", "tanh", "tanh"], [0, 2, 3, 1]),
    "GRU": (3, ["sigmoid", "tanh"], [1, 0, 2]),
    "RNN": (1, ["tanh"], [0]),
}
# activation -> (code with {a} / {b}, default alpha, default beta); None: the value is not used
ACTIVATIONS: dict[str, tuple[str, float | None, float | None]] = {
    "sigmoid": ("torch.sigmoid", None, None),
    "tanh": ("torch.tanh", None, None),
    "relu": ("torch.relu", None, None),
    "softsign": ("F.softsign", None, None),
    "softplus": ("F.softplus", None, None),
    "affine": ("lambda v: {a} * v + {b}", 1.0, 0.0),
    "leakyrelu": ("lambda v: F.leaky_relu(v, {a})", 0.01, None),
    "thresholdedrelu": ("lambda v: F.threshold(v, {a}, 0.0)", 1.0, None),
    "scaledtanh": ("lambda v: {a} * torch.tanh({b} * v)", 1.0, 1.0),
    "hardsigmoid": ("lambda v: torch.clamp({a} * v + {b}, 0, 1)", 0.2, 0.5),
    "elu": ("lambda v: F.elu(v, {a})", 1.0, None),
}


def _f32(v: float) -> float:
    return float(str(np.float32(v)))


def _activations(ctx: Ctx, dirs: int, default: list[str]) -> list[str] | None:
    """The activations' code, one per gate function and direction; None for the defaults."""
    names = [str(n).lower() for n in ctx.attr("activations") or []]
    if not names:
        return None
    if len(names) == len(default) and dirs == 2:
        names = names * 2
    if len(names) != len(default) * dirs:
        raise UnsupportedOp(f"{len(names)} activations for {dirs} direction(s)")
    # alpha / beta values are consumed in order by the activations that take them
    alphas = list(ctx.attr("activation_alpha") or [])
    betas = list(ctx.attr("activation_beta") or [])
    codes = []
    for name in names:
        if name not in ACTIVATIONS:
            raise UnsupportedOp(f"activation {name!r}")
        template, alpha, beta = ACTIVATIONS[name]
        a = _f32(alphas.pop(0)) if alpha is not None and alphas else alpha
        b = _f32(betas.pop(0)) if beta is not None and betas else beta
        codes.append(template.format(a=lit(a) if a is not None else "", b=lit(b) if b is not None else ""))
    return None if names == default * dirs else codes


def _static(shape: tuple[ir.Dim, ...] | None) -> tuple[int, ...] | None:
    if shape is None or not all(isinstance(d, int) for d in shape):
        return None
    return tuple(int(d) for d in shape)  # type: ignore[arg-type]


def _given(ctx: Ctx, i: int) -> bool:
    """Input i is present and not a constant of zeros (the layers' default initial state)."""
    c = ctx.const(i)
    return ctx.has(i) and (c is None or bool(np.any(c)))


def _full_length(ctx: Ctx, layout: int) -> bool:
    """sequence_lens is absent, or a constant that covers every step (so it changes nothing)."""
    if not ctx.has(4):
        return True
    lens, shape = ctx.const(4), _static(ctx.shape(0))
    return lens is not None and shape is not None and bool(np.all(lens == shape[1 if layout else 0]))


@TABLE.op("LSTM", "GRU", "RNN")
def recurrent(ctx: Ctx) -> Unpack | list[str | None]:
    op = ctx.node.op_type
    direction = ctx.attr("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise UnsupportedOp(f"direction {direction!r}")
    dirs = 2 if direction == "bidirectional" else 1
    if not any(ctx.has_out(j) for j in range(ctx.n_out)):
        return [None] * ctx.n_out
    layout = int(ctx.attr("layout", 0))
    acts = _activations(ctx, dirs, SPECS[op][1])
    module = _torch_layer(ctx, op, direction, dirs, layout, acts)
    if module is not None:
        return module
    return _loop(ctx, op, direction, layout, acts)


def _loop(ctx: Ctx, op: str, direction: str, layout: int, acts: list[str] | None) -> Unpack:
    args = [ctx.x(0), ctx.x(1), ctx.x(2)]
    kwargs: dict = {}
    if ctx.has(3):
        args.append(ctx.x(3))
    if not _full_length(ctx, layout):
        kwargs["seq_lens"] = Code(ctx.x(4))
    for k, name in enumerate(["h0", "c0"] if op == "LSTM" else ["h0"]):
        if _given(ctx, 5 + k):
            kwargs[name] = Code(ctx.x(5 + k))
    if op == "LSTM" and ctx.has(7):
        kwargs["p"] = Code(ctx.x(7))
    if direction != "forward":
        kwargs["direction"] = direction
    if layout:
        kwargs["layout"] = layout
    if acts is not None:
        kwargs["activations"] = Code("[" + ", ".join(acts) + "]")
    if ctx.attr("clip") is not None:
        kwargs["clip"] = _f32(ctx.attr("clip"))
    if op == "LSTM" and ctx.attr("input_forget", 0):
        kwargs["input_forget"] = True
    if op == "GRU" and ctx.attr("linear_before_reset", 0):
        kwargs["linear_before_reset"] = True
    return Unpack(call(ctx.helper("onnx_" + op.lower()), *args, **kwargs), 3 if op == "LSTM" else 2)


def _torch_layer(
    ctx: Ctx, op: str, direction: str, dirs: int, layout: int, acts: list[str] | None
) -> list[str | None] | None:
    """nn.LSTM / nn.GRU / nn.RNN when the weights are constants and the attributes are theirs."""
    n_gates, _, order = SPECS[op]
    w, r = ctx.const(1), ctx.const(2)
    b = ctx.const(3) if ctx.has(3) else None
    if w is None or r is None or (ctx.has(3) and b is None) or ctx.elem(1) != ir.FLOAT:
        return None
    if ctx.attr("clip") is not None or not _full_length(ctx, layout):
        return None
    kwargs: dict = {}
    if op == "RNN":
        if acts is not None:
            if acts != ["torch.relu"] * dirs:
                return None
            kwargs["nonlinearity"] = "relu"
    elif acts is not None:
        return None
    if op == "LSTM":
        p = ctx.const(7) if ctx.has(7) else None
        if ctx.attr("input_forget", 0) or (ctx.has(7) and (p is None or np.any(p))):
            return None
    if op == "GRU" and not ctx.attr("linear_before_reset", 0):
        return None  # PyTorch's GRU applies the reset gate after the recurrent linear layer
    _, gates_h, in_size = w.shape
    hidden = gates_h // n_gates
    idx = np.concatenate([np.arange(g * hidden, (g + 1) * hidden) for g in order])
    params = {}
    for d in range(dirs):
        suffix = "_reverse" if d == 1 else ""
        params[f"weight_ih_l0{suffix}"] = w[d][idx]
        params[f"weight_hh_l0{suffix}"] = r[d][idx]
        if b is not None:
            params[f"bias_ih_l0{suffix}"] = b[d][: gates_h][idx]
            params[f"bias_hh_l0{suffix}"] = b[d][gates_h:][idx]
    if b is None:
        kwargs["bias"] = False
    if layout:
        kwargs["batch_first"] = True
    if dirs == 2:
        kwargs["bidirectional"] = True
    m = ctx.module(call(f"nn.{op}", lit(int(in_size)), lit(int(hidden)), **kwargs), params)

    seq_dim = 1 if layout else 0
    x = ctx.x(0)
    if direction == "reverse":  # a reverse-only layer reads the sequence back to front
        x = f"{x}.flip({seq_dim})"
    state = [ctx.x(k) if _given(ctx, k) else None for k in ((5, 6) if op == "LSTM" else (5,))]
    if layout:  # initial states are batch-major in layout 1
        state = [f"{s}.transpose(0, 1)" if s is not None else None for s in state]
    args = [x]
    if op == "LSTM" and any(s is not None for s in state):
        h0, c0 = state
        args.append(f"({h0 or f'torch.zeros_like({c0})'}, {c0 or f'torch.zeros_like({h0})'})")
    elif op != "LSTM" and state[0] is not None:
        args.append(state[0])

    n_out = 3 if op == "LSTM" else 2
    y = ctx.tmp("y") if ctx.has_out(0) else "_"
    hs = []
    for j in range(1, n_out):
        if not ctx.has_out(j):
            hs.append("_")
        elif layout == 0:  # the final states already have ONNX's layout: name them directly
            hs.append(ctx.out_name(j))
        else:
            hs.append(ctx.tmp("h" if j == 1 else "c"))
    state_targets = f"({', '.join(hs)})" if op == "LSTM" else hs[0]
    ctx.stmt(f"{y}, {state_targets} = {m}({', '.join(args)})")
    outs: list[str | None] = [None] * n_out
    if y != "_":
        if direction == "reverse":
            y = f"{y}.flip({seq_dim})"
        # PyTorch concatenates the directions' features; ONNX keeps a directions axis
        if layout:  # (batch, seq, dirs * H) -> (batch, seq, dirs, H)
            outs[0] = f"{y}.unsqueeze(2)" if dirs == 1 else f"{y}.unflatten(2, (2, {hidden}))"
        else:  # (seq, batch, dirs * H) -> (seq, dirs, batch, H)
            outs[0] = f"{y}.unsqueeze(1)" if dirs == 1 else f"{y}.unflatten(2, (2, {hidden})).transpose(1, 2)"
    for j, h in zip(range(1, n_out), hs):
        if h != "_":
            outs[j] = f"{h}.transpose(0, 1)" if layout else h
    return outs
