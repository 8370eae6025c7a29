"""LSTM, GRU and RNN written out step by step with `keras.ops`, for what Keras's recurrent
layers cannot hold: weights given at run time, other activations, clip, input_forget,
sequence_lens and peepholes. The generated code is a Python loop over the (static) time axis,
unrolled when the model is built; the equations are ONNX's, gate by gate."""

from __future__ import annotations

from ..context import Ctx, lit

# ONNX activation names (case-insensitive) -> keras.ops function; ones with alpha/beta are refused
ACTIVATIONS = {
    "sigmoid": "ops.sigmoid", "tanh": "ops.tanh", "relu": "ops.relu",
    "softsign": "ops.soft_sign", "softplus": "ops.softplus",
}
DEFAULT_ACTS = {"LSTM": ["sigmoid", "tanh", "tanh"], "GRU": ["sigmoid", "tanh"], "RNN": ["tanh"]}
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def _text(v: object) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _activations(ctx: Ctx, op: str, dirs: int) -> list[list[str]]:
    """Per direction, the keras.ops functions of f, g(, h)."""
    n = len(DEFAULT_ACTS[op])
    names = [_text(a).lower() for a in ctx.attr("activations", [])] or DEFAULT_ACTS[op] * dirs
    if ctx.attr("activation_alpha") is not None or ctx.attr("activation_beta") is not None:
        raise ctx.refuse("activation_alpha / activation_beta")
    if len(names) == n:
        names = names * dirs
    if len(names) != n * dirs:
        raise ctx.refuse(f"{len(names)} activations for {dirs} direction(s) of {op}")
    for a in names:
        if a not in ACTIVATIONS:
            raise ctx.refuse(f"activation {a!r}")
    return [[ACTIVATIONS[a] for a in names[d * n:(d + 1) * n]] for d in range(dirs)]


def unrolled(ctx: Ctx, why: str) -> list[str | None]:
    """The node as a loop of keras.ops over time (`why`: what keeps it from being a layer)."""
    op = ctx.node.op_type
    layout = int(ctx.attr("layout", 0))
    xshape = ctx.static_shape(0) if ctx.value(0).static_shape is not None else ctx.shape(0)
    assert xshape is not None
    steps = xshape[1 if layout else 0]
    if not isinstance(steps, int):
        raise ctx.refuse(f"{why}, and the sequence length is not static (needed to unroll)")
    wshape = ctx.static_shape(1)
    direction = _text(ctx.attr("direction", "forward"))
    dirs = 2 if direction == "bidirectional" else 1
    hidden = int(ctx.attr("hidden_size", wshape[1] // GATES[op]))
    gates = GATES[op]
    acts = _activations(ctx, op, dirs)
    clip = ctx.attr("clip")
    input_forget = op == "LSTM" and bool(ctx.attr("input_forget", 0))
    lbr = op == "GRU" and bool(ctx.attr("linear_before_reset", 0))
    n_states = 2 if op == "LSTM" else 1
    peep = op == "LSTM" and ctx.n_in > 7 and ctx.has(7)
    batch = xshape[0 if layout else 1]

    x = ctx.x(0)
    w, r = ctx.x(1), ctx.x(2)
    b = ctx.x(3) if ctx.has(3) else None
    lens = ctx.x(4) if ctx.has(4) else None
    inits = [ctx.x(k) if ctx.has(k) else None for k in (5, 6)[:n_states]]
    p = ctx.x(7) if peep else None

    def step_of(t: str) -> str:
        return f"{x}[{t}]" if layout == 0 else f"{x}[:, {t}]"

    def pick(v: str, d: int) -> str:
        # initial_h / initial_c: (dirs, batch, hidden), layout=1 (batch, dirs, hidden)
        return f"{v}[{d}]" if layout == 0 else f"{v}[:, {d}]"

    def clipped(e: str) -> str:
        return e if clip is None else f"ops.clip({e}, {lit(-float(clip))}, {lit(float(clip))})"

    seqs: list[str] = []
    finals: list[list[str]] = [[] for _ in range(n_states)]
    for d in range(dirs):
        f, g = acts[d][0], acts[d][1] if len(acts[d]) > 1 else acts[d][0]
        h_act = acts[d][2] if op == "LSTM" else None
        wt = ctx.assign("w_t", f"ops.transpose({w}[{d}])")
        rt = ctx.assign("r_t", f"ops.transpose({r}[{d}])")
        wb = rb = rb_zr = rb_h = None
        if b is not None:
            gh = gates * hidden
            wb = ctx.assign("w_b", f"{b}[{d}, :{gh}]")
            if op == "GRU":  # (a 1-D KerasTensor cannot be sliced with a bare slice)
                rb_zr = ctx.assign("r_b", f"{b}[{d}, {gh}:{gh + 2 * hidden}]")
                rb_h = ctx.assign("r_b", f"{b}[{d}, {gh + 2 * hidden}:]")
            else:
                rb = ctx.assign("r_b", f"{b}[{d}, {gh}:]")
        states = []
        for k, name in enumerate(("h", "c")[:n_states]):
            if inits[k] is not None:
                states.append(ctx.assign(name, pick(inits[k], d)))
            elif isinstance(batch, int):
                states.append(ctx.assign(name, f"ops.zeros({lit((batch, hidden))}, dtype={lit(ctx.dtype(ctx.elem(0)))})"))
            else:
                states.append(ctx.assign(name, f"ops.zeros_like(ops.matmul({step_of('0')}, {wt})[:, :{hidden}])"))
        h = states[0]
        if peep:  # P: (dirs, 3 * hidden) in the order i, o, f
            pi, po, pf = (ctx.assign(f"p_{n}", f"{p}[{d}, {k * hidden}:{(k + 1) * hidden}]") for k, n in enumerate("iof"))
        c = states[1] if n_states == 2 else None
        ys = ctx.tmp("ys")
        tv = ctx.tmp("t")
        backwards = direction == "reverse" or d == 1
        order = f"reversed(range({steps}))" if backwards else f"range({steps})"
        body: list[str] = []

        def let(hint: str, expr: str) -> str:
            name = ctx.tmp(hint)
            body.append(f"{name} = {expr}")
            return name

        xp = let("xw", f"ops.matmul({step_of(tv)}, {wt})")
        if wb is not None:
            xp = let("xw", f"ops.add({xp}, {wb})")
        if op == "GRU":
            # z and r see both biases; the candidate's recurrent part depends on linear_before_reset
            hz = f"ops.matmul({h}, {rt}[:, :{2 * hidden}])"
            if rb_zr is not None:
                hz = f"ops.add({hz}, {rb_zr})"
            zr = let("zr", f"ops.add({xp}[:, :{2 * hidden}], {hz})")
            z = let("z", f"{f}({clipped(f'{zr}[:, :{hidden}]')})")
            rr = let("r", f"{f}({clipped(f'{zr}[:, {hidden}:]')})")
            rh = f"{rt}[:, {2 * hidden}:]"
            if lbr:
                hh = f"ops.matmul({h}, {rh})"
                if rb_h is not None:
                    hh = f"ops.add({hh}, {rb_h})"
                hh = f"ops.multiply({rr}, {hh})"
            else:
                hh = f"ops.matmul(ops.multiply({rr}, {h}), {rh})"
                if rb_h is not None:
                    hh = f"ops.add({hh}, {rb_h})"
            cand = let("hc", f"{g}({clipped(f'ops.add({xp}[:, {2 * hidden}:], {hh})')})")
            new_h = let("h_new", f"ops.add(ops.multiply(ops.subtract(1, {z}), {cand}), ops.multiply({z}, {h}))")
            new_c = None
        else:
            pre = f"ops.add({xp}, ops.matmul({h}, {rt}))"
            if rb is not None:
                pre = f"ops.add({pre}, {rb})"
            pre = let("gates", pre)
            if op == "RNN":
                new_h = let("h_new", f"{f}({clipped(pre)})")
                new_c = None
            else:
                gi, go, gf, gc = (f"{pre}[:, {k * hidden}:{(k + 1) * hidden}]" for k in range(4))
                if peep:
                    gi = f"ops.add({gi}, ops.multiply({pi}, {c}))"
                    gf = f"ops.add({gf}, ops.multiply({pf}, {c}))"
                i = let("i", f"{f}({clipped(gi)})")
                if input_forget:
                    fg = let("f", f"ops.subtract(1, {i})")
                else:
                    fg = let("f", f"{f}({clipped(gf)})")
                cc = let("cc", f"{g}({clipped(gc)})")
                new_c = let("c_new", f"ops.add(ops.multiply({fg}, {c}), ops.multiply({i}, {cc}))")
                if peep:
                    go = f"ops.add({go}, ops.multiply({po}, {new_c}))"
                o = let("o", f"{f}({clipped(go)})")
                new_h = let("h_new", f"ops.multiply({o}, {h_act}({new_c}))")
        y = new_h
        if lens is not None:
            # steps at or past a sequence's length keep the state and output zeros
            m = let("live", f"ops.expand_dims(ops.greater({lens}, {tv}), -1)")
            y = let("y", f"ops.where({m}, {new_h}, ops.zeros_like({new_h}))")
            new_h = f"ops.where({m}, {new_h}, {h})"
            if new_c is not None:
                new_c = f"ops.where({m}, {new_c}, {c})"
        body.append(f"{ys}.append({y})")
        body.append(f"{h} = {new_h}")
        if new_c is not None:
            body.append(f"{c} = {new_c}")
        ctx.stmt(f"{ys} = []")
        ctx.stmt(f"for {tv} in {order}:\n" + "\n".join("    " + line for line in body))
        if backwards:
            ctx.stmt(f"{ys}.reverse()")
        seqs.append(ctx.assign("seq", f"ops.stack({ys}, axis=0)"))
        finals[0].append(h)
        if c is not None:
            finals[1].append(c)
    # ONNX Y: (time, dirs, batch, hidden) or with layout=1 (batch, time, dirs, hidden)
    y_all = f"ops.stack([{', '.join(seqs)}], axis=1)"
    if layout == 1:
        y_all = f"ops.transpose({y_all}, (2, 0, 1, 3))"
    outs: list[str | None] = [y_all]
    for k in range(n_states):
        outs.append(f"ops.stack([{', '.join(finals[k])}], axis={0 if layout == 0 else 1})")
    return outs
