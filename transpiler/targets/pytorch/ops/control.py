"""Control flow: If, Loop and Scan become real Python `if` / `for` statements in forward.

A branch or body is lowered like the main graph and its statements are inlined, indented; it
reads enclosing values by their names. Loop-carried values are plain locals updated at the end
of each iteration; per-iteration (scan) outputs are collected in lists and stacked afterwards.
"""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ....loops import cond_passes_through, truth
from ..context import Ctx, lit
from . import TABLE

INDENT = "    "
# Exporters write "no trip limit" as INT64_MAX; a count this large means "until cond is false".
UNBOUNDED = 2**62


def indented(lines: list[str]) -> list[str]:
    """The lines of a nested block (`pass` when there are none)."""
    return [INDENT + ln if ln else ln for ln in lines] or [INDENT + "pass"]


def block(header: str, lines: list[str]) -> list[str]:
    return [header, *indented(lines)]


def assign_all(targets: list[str], exprs: list[str]) -> list[str]:
    """`target = expr` for each pair that changes something; one tuple assignment when an
    expression reads another pair's target (a swap), so every expression sees the old values."""
    pairs = [(t, e) for t, e in zip(targets, exprs) if t != e]
    names = {t for t, _ in pairs}
    if len(pairs) > 1 and any(e in names for _, e in pairs):
        return [f"{', '.join(t for t, _ in pairs)} = {', '.join(e for _, e in pairs)}"]
    return [f"{t} = {e}" for t, e in pairs]


def is_read(graph: ir.Graph, v: ir.Value) -> bool:
    """Whether the body reads `v` (nested subgraphs included) or returns it."""
    return id(v) in graph.users() or any(o is v for o in graph.outputs)


def _emit(ctx: Ctx, lines: list[str]) -> None:
    if lines:
        ctx.stmt("\n".join(lines))


@TABLE.op("If")
def if_(ctx: Ctx) -> list[str | None]:
    then_g: ir.Graph = ctx.attr("then_branch")
    else_g: ir.Graph = ctx.attr("else_branch")
    cond = ctx.const(0)
    if cond is not None:  # a constant condition: only the branch taken becomes code
        lines, outs = ctx.gen.lower_subgraph(then_g if truth(cond) else else_g, [])
        _emit(ctx, lines)
        return list(outs)
    test = f"{ctx.x(0)}.item()"
    then_lines, then_outs = ctx.gen.lower_subgraph(then_g, [])
    else_lines, else_outs = ctx.gen.lower_subgraph(else_g, [])
    if not then_lines and not else_lines and ctx.n_out == 1:
        return [f"{then_outs[0]} if {test} else {else_outs[0]}"]
    targets = [ctx.gen.bind(v) if v is not None else None for v in ctx.node.outputs]

    def tail(outs: list[str]) -> list[str]:
        kept = [(t, e) for t, e in zip(targets, outs) if t is not None]
        return assign_all([t for t, _ in kept], [e for _, e in kept])

    lines = block(f"if {test}:", then_lines + tail(then_outs)) + block("else:", else_lines + tail(else_outs))
    _emit(ctx, lines)
    return [None] * ctx.n_out


@TABLE.op("Loop")
def loop(ctx: Ctx) -> list[str | None]:
    body: ir.Graph = ctx.attr("body")
    n_carried = ctx.n_in - 2
    n_scan = len(body.outputs) - 1 - n_carried
    if len(body.inputs) != 2 + n_carried or n_scan < 0:
        raise UnsupportedOp("the loop body's inputs and outputs do not match the node's")
    iter_v, cond_v = body.inputs[0], body.inputs[1]

    trip: str | None = None  # code of the iteration count, None when unbounded
    if ctx.has(0):
        m = ctx.const(0)
        if m is None:
            trip = f"int({ctx.x(0)})"
        elif int(np.asarray(m).reshape(-1)[0]) < UNBOUNDED:
            trip = lit(int(np.asarray(m).reshape(-1)[0]))
    c0 = ctx.const(1) if ctx.has(1) else np.array(True)
    if c0 is not None and not truth(c0):
        raise UnsupportedOp("the loop's condition is constant false: it never runs")
    cond_static = c0 is not None  # statically true at the start
    invariant = cond_passes_through(body)
    if invariant and trip is None:
        raise UnsupportedOp("the loop has no trip count and its condition never changes: it never ends")

    before: list[str] = []
    inside: list[str] = []
    # the condition: a local updated each iteration, unless the body only passes it through
    if invariant:
        cond_name = ctx.x(1) if not cond_static else "torch.tensor(True)"
    else:
        cond_name = ctx.gen.bind(cond_v)
        before.append(f"{cond_name} = {ctx.x(1) if not cond_static else 'torch.tensor(True)'}")
    if trip is not None and not (invariant and cond_static):
        inside += [f"if not {cond_name}.item():", INDENT + "break"]

    # the iteration number, as the 0-d int64 tensor ONNX gives the body
    iter_name = "_"
    counter: str | None = None
    if is_read(body, iter_v):
        iter_name = ctx.gen.bind(iter_v)
        if trip is not None:
            counter = ctx.tmp("step")
            inside.append(f"{iter_name} = torch.tensor({counter})")
        else:
            before.append(f"{iter_name} = torch.tensor(0)")

    # loop-carried values: one local each, named after the loop's output
    carried: list[str] = []
    for k, v_in in enumerate(body.inputs[2:]):
        out = ctx.node.output(k)
        name = ctx.gen.bind(out) if out is not None else ctx.gen.bind(v_in)
        carried.append(name)
        init = ctx.x(2 + k)
        if init != name:
            before.append(f"{name} = {init}")

    # a condition the body only copies (cond_out = Identity(cond_in)) needs no statement
    copy = body.outputs[0].producer if invariant else None
    skip = (
        copy is not None
        and copy in body.nodes
        and id(body.outputs[0]) not in body.users()
        and not any(o is body.outputs[0] for o in body.outputs[1:])
    )
    saved = body.nodes
    if skip:
        body.nodes = [n for n in saved if n is not copy]
    try:
        body_lines, outs = ctx.gen.lower_subgraph(body, [iter_name, cond_name, *carried])
    finally:
        body.nodes = saved
    inside += body_lines
    # collect this iteration's scan outputs before the carried locals take their next values
    after: list[str] = []
    for j in range(n_scan):
        out = ctx.node.output(n_carried + j)
        if out is None:
            continue
        name = ctx.gen.bind(out)
        steps = ctx.tmp(f"{name}_steps")
        before.append(f"{steps} = []")
        inside.append(f"{steps}.append({outs[1 + n_carried + j]})")
        after.append(f"{name} = torch.stack({steps})")
    targets, exprs = list(carried), list(outs[1 : 1 + n_carried])
    if not invariant:
        targets.append(cond_name)
        exprs.append(outs[0])
    inside += assign_all(targets, exprs)

    if trip is None:
        header = f"while {cond_name}.item():"
        if counter is None and iter_name != "_":
            inside.append(f"{iter_name} = {iter_name} + 1")
    else:
        header = f"for {counter or '_'} in range({trip}):"
    _emit(ctx, before + block(header, inside) + after)
    return [None] * ctx.n_out


def scan_lines(
    ctx: Ctx,
    body: ir.Graph,
    states: list[str],
    xs: list[str],
    in_axes: list[int],
    in_dirs: list[int],
    out_names: list[str | None],
    out_axes: list[int],
    out_dirs: list[int],
) -> list[str]:
    """The statements of one scan: `states` are locals already holding the initial states (they
    hold the final ones afterwards); `out_names[k]` receives scan output k stacked (None: unused)."""
    n = len(states)
    loop_vars = [ctx.gen.bind(v) for v in body.inputs[n:]]
    sources = []
    for x, axis, rev in zip(xs, in_axes, in_dirs):
        src = f"{x}.flip({axis})" if rev else x
        sources.append(f"{src}.unbind({axis})" if axis != 0 else src)
    body_lines, outs = ctx.gen.lower_subgraph(body, [*states, *loop_vars])
    before: list[str] = []
    inside = list(body_lines)
    after: list[str] = []
    for k, name in enumerate(out_names):  # collected before the states take their next values
        if name is None:
            continue
        steps = ctx.tmp(f"{name}_steps")
        before.append(f"{steps} = []")
        inside.append(f"{steps}.append({outs[n + k]})")
        items = f"{steps}[::-1]" if out_dirs[k] else steps
        after.append(f"{name} = torch.stack({items}, dim={out_axes[k]})" if out_axes[k] else f"{name} = torch.stack({items})")
    inside += assign_all(states, list(outs[:n]))
    if len(sources) == 1:
        header = f"for {loop_vars[0]} in {sources[0]}:"
    else:
        header = f"for {', '.join(loop_vars)} in zip({', '.join(sources)}):"
    return before + block(header, inside) + after


@TABLE.op("Scan")
def scan(ctx: Ctx) -> list[str | None]:
    body: ir.Graph = ctx.attr("body")
    m = int(ctx.attr("num_scan_inputs"))
    if len(body.inputs) == ctx.n_in - 1:  # opset 8: a leading sequence_lens input and a batch axis
        return _scan8(ctx, body, m)
    n = ctx.n_in - m
    k = len(body.outputs) - n
    in_axes = list(ctx.attr("scan_input_axes") or [0] * m)
    in_dirs = list(ctx.attr("scan_input_directions") or [0] * m)
    out_axes = list(ctx.attr("scan_output_axes") or [0] * k)
    out_dirs = list(ctx.attr("scan_output_directions") or [0] * k)
    before: list[str] = []
    states: list[str] = []
    for i, v_in in enumerate(body.inputs[:n]):
        out = ctx.node.output(i)
        name = ctx.gen.bind(out) if out is not None else ctx.gen.bind(v_in)
        states.append(name)
        before.append(f"{name} = {ctx.x(i)}")
    out_names = [ctx.gen.bind(v) if v is not None else None for v in ctx.node.outputs[n : n + k]]
    xs = [ctx.x(n + j) for j in range(m)]
    _emit(ctx, before + scan_lines(ctx, body, states, xs, in_axes, in_dirs, out_names, out_axes, out_dirs))
    return [None] * ctx.n_out


def _scan8(ctx: Ctx, body: ir.Graph, m: int) -> list[str | None]:
    """Scan-8: every input has a leading batch axis; each batch item is scanned on its own."""
    if ctx.has(0):
        raise UnsupportedOp("Scan-8 with sequence_lens is not supported")
    n = ctx.n_in - 1 - m
    k = len(body.outputs) - n
    dirs = list(ctx.attr("directions") or [0] * m)
    inputs = [ctx.x(1 + i) for i in range(n + m)]
    items = [ctx.tmp(f"{x.split('.')[-1]}_b") for x in inputs]
    states = [ctx.gen.bind(v) for v in body.inputs[:n]]
    inner_outs = [ctx.tmp(f"{_hint(v)}_b") if v is not None else None for v in ctx.node.outputs[n:]]
    lines = [f"{s} = {x}" for s, x in zip(states, items[:n])]
    lines += scan_lines(ctx, body, states, items[n:], [0] * m, dirs, inner_outs, [0] * k, [0] * k)
    before: list[str] = []
    after: list[str] = []
    collected = [*states, *inner_outs]
    for j, v in enumerate(ctx.node.outputs):
        if v is None or collected[j] is None:
            continue
        name = ctx.gen.bind(v)
        batch = ctx.tmp(f"{name}_batch")
        before.append(f"{batch} = []")
        lines.append(f"{batch}.append({collected[j]})")
        after.append(f"{name} = torch.stack({batch})")
    header = f"for {', '.join(items)} in zip({', '.join(inputs)}):" if len(items) > 1 else f"for {items[0]} in {inputs[0]}:"
    _emit(ctx, before + block(header, lines) + after)
    return [None] * ctx.n_out


def _hint(v: ir.Value) -> str:
    from ..codegen import _value_hint

    return _value_hint(v.name)
