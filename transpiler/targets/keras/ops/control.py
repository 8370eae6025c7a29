"""Control flow in a static-shape functional graph: If, Loop and Scan.

A branch or body is lowered inline (Codegen.lower_subgraph), so it reads enclosing values by their
names like any other node. If with a run-time condition computes both branches and selects each
output with `ops.where` (a selection, so exact; both branches must give the same static shape and
type). Loop (with a constant trip count) and Scan are unrolled: one copy of the body per
iteration, the iteration number a constant of that copy. A loop whose number of iterations is
only known at run time would give outputs of a run-time shape, which a static-shape Keras model
cannot have: it is refused.
"""

from __future__ import annotations

import numpy as np

from .... import ir
from ....loops import cond_passes_through, truth
from ..context import Ctx, lit
from . import TABLE

# unrolled copies of a body: beyond this many statements the generated file stops being readable
MAX_UNROLLED_NODES = 4096


def _scalar_int(c: np.ndarray) -> int:
    return int(np.asarray(c).reshape(-1)[0])


def _check_size(ctx: Ctx, body: ir.Graph, copies: int) -> None:
    if copies * max(1, len(body.nodes)) > MAX_UNROLLED_NODES:
        raise ctx.refuse(f"unrolling {copies} iterations of a {len(body.nodes)}-node body is too large")


def _input(ctx: Ctx, i: int) -> tuple[str, bool]:
    return ctx.x(i), ctx.is_symbolic(i)


@TABLE.op("If")
def if_(ctx: Ctx) -> list[str]:
    then_g: ir.Graph = ctx.attr("then_branch")
    else_g: ir.Graph = ctx.attr("else_branch")
    cond = ctx.const(0)
    if cond is not None:  # a constant condition: only the branch taken becomes code
        return [code for code, _ in ctx.subgraph(then_g if truth(cond) else else_g, [])]
    if ctx.static_shape(0) not in ((), (1,)):
        raise ctx.refuse("the condition must hold one element")
    for j in range(ctx.n_out):
        want = ctx.out_static(j) if ctx.has_out(j) else None
        for g in (then_g, else_g):
            got = g.outputs[j] if j < len(g.outputs) else None
            if got is None or got.static_shape is None or (want is not None and got.static_shape != want):
                raise ctx.refuse("both branches must give each output with the same static shape")
            if got.elem != ctx.out_elem(j):
                raise ctx.refuse("both branches must give each output with the same element type")
    test = ctx.x(0) if ctx.rank(0) == 0 else ctx.assign("test", f"ops.reshape({ctx.x(0)}, ())")
    then_outs = ctx.subgraph(then_g, [])
    else_outs = ctx.subgraph(else_g, [])
    for j, (elem, shape) in enumerate(ctx.subgraph_types()):
        ctx.set_out_type(j, elem, shape)
    # both branches are computed (they have no side effects); each output selects one
    return [f"ops.where({test}, {t}, {e})" for (t, _), (e, _) in zip(then_outs, else_outs)]


@TABLE.op("Loop")
def loop(ctx: Ctx) -> list[str]:
    body: ir.Graph = ctx.attr("body")
    n_carried = ctx.n_in - 2
    n_scan = len(body.outputs) - 1 - n_carried
    if len(body.inputs) != 2 + n_carried or n_scan < 0:
        raise ctx.refuse("the loop body's inputs and outputs do not match the node's")
    if not ctx.has(0) or ctx.const(0) is None:
        raise ctx.refuse("the trip count must be a constant (a run-time count gives run-time shapes)")
    trip = _scalar_int(ctx.const(0))
    if not cond_passes_through(body):
        raise ctx.refuse("the loop's condition changes inside the body (a run-time number of iterations)")
    if trip < 0:
        trip = 0
    start_cond = ctx.const(1) if ctx.has(1) else np.array(True)
    selected = start_cond is None  # a run-time start condition: 0 or `trip` iterations
    if selected and n_scan:
        raise ctx.refuse("a run-time loop condition decides the length of its scan outputs")
    if start_cond is not None and not truth(start_cond):
        trip = 0
    if trip == 0 and n_scan:
        raise ctx.refuse("a loop that never runs has empty scan outputs of unknown shape")
    _check_size(ctx, body, trip)
    carried = [_input(ctx, 2 + k) for k in range(n_carried)]
    cond_arg = _input(ctx, 1) if ctx.has(1) and start_cond is None else (lit(True), False)
    scans: list[list[tuple[str, bool]]] = [[] for _ in range(n_scan)]
    iter_v = body.inputs[0]
    types = [(ir.INT64, ()), (ir.BOOL, ())] + [(ctx.elem(2 + k), ctx.shape(2 + k)) for k in range(n_carried)]
    for i in range(trip):
        step = np.array(i, dtype=np.int64)
        outs = ctx.subgraph(
            body, [(f"np.array({i}, dtype={lit('int64')})", False), cond_arg, *carried], {id(iter_v): step}, types
        )
        carried = outs[1:1 + n_carried]
        for k in range(n_scan):
            scans[k].append(outs[1 + n_carried + k])
    if trip:
        body_types = ctx.subgraph_types()
        for j, (elem, shape) in enumerate(body_types[1:]):
            if j >= n_carried:
                shape = None if shape is None else (trip, *shape)
            ctx.set_out_type(j, elem, shape)
    results = [code for code, _ in carried]
    if selected:
        test = ctx.x(1) if ctx.rank(1) == 0 else ctx.assign("test", f"ops.reshape({ctx.x(1)}, ())")
        results = [f"ops.where({test}, {r}, {ctx.x(2 + k)})" for k, r in enumerate(results)]
    for k in range(n_scan):
        results.append(f"ops.stack([{', '.join(code for code, _ in scans[k])}], axis=0)")
    return results


@TABLE.op("Scan")
def scan(ctx: Ctx) -> list[str]:
    body: ir.Graph = ctx.attr("body")
    m = int(ctx.attr("num_scan_inputs", 0))
    opset8 = ctx.gen.graph.opset.get("", 0) < 9
    first = 1 if opset8 else 0  # Scan-8 starts with the optional sequence_lens
    if opset8 and ctx.has(0):
        raise ctx.refuse("sequence_lens is not supported (sequences of different lengths)")
    n_state = ctx.n_in - first - m
    n_scan_out = len(body.outputs) - n_state
    if n_state < 0 or m < 1 or len(body.inputs) != n_state + m or n_scan_out < 0:
        raise ctx.refuse("the scan body's inputs and outputs do not match the node's")
    if opset8:
        in_axes, out_axes = [0] * m, [0] * n_scan_out
        in_dirs = list(ctx.attr("directions", [0] * m))
        out_dirs = [0] * n_scan_out
    else:
        in_axes = list(ctx.attr("scan_input_axes", [0] * m))
        in_dirs = list(ctx.attr("scan_input_directions", [0] * m))
        out_axes = list(ctx.attr("scan_output_axes", [0] * n_scan_out))
        out_dirs = list(ctx.attr("scan_output_directions", [0] * n_scan_out))
    shapes = [ctx.static_shape(first + n_state + k) for k in range(m)]
    batch_off = 1 if opset8 else 0  # Scan-8: every input has a leading batch axis, scanned per item
    axes = []
    for k, a in enumerate(in_axes):
        r = len(shapes[k]) - batch_off
        if not -r <= a < r:
            raise ctx.refuse(f"scan input axis {a} is out of range")
        axes.append((a % r) + batch_off)
    lengths = {shapes[k][axes[k]] for k in range(m)}
    if len(lengths) != 1:
        raise ctx.refuse("the scan inputs have different lengths")
    length = lengths.pop()
    batches = [shapes[0][0]] if opset8 else [None]
    if opset8 and any(s[0] != batches[0] for s in shapes):
        raise ctx.refuse("the scan inputs have different batch sizes")
    if length == 0:
        raise ctx.refuse("an empty scan has outputs of unknown shape")
    n_items = batches[0] if opset8 else 1
    _check_size(ctx, body, length * n_items)
    # the body's input types (a body from a function expansion may lack them)
    types = [(ctx.elem(first + k), _drop(ctx.shape(first + k), 0 if opset8 else None)) for k in range(n_state)]
    for k in range(m):
        s = tuple(shapes[k])
        if opset8:
            s = s[1:]
        types.append((ctx.elem(first + n_state + k), _drop(s, axes[k] - batch_off)))
    states_all, outs_all = [], []
    for b in range(n_items):
        def item(code: str) -> str:
            return f"{code}[{b}]" if opset8 else code

        states = [(item(ctx.x(first + k)), ctx.is_symbolic(first + k)) for k in range(n_state)]
        scanned = [ctx.x(first + n_state + k) for k in range(m)]
        per_step: list[list[str]] = [[] for _ in range(n_scan_out)]
        for t in range(length):
            args = list(states)
            for k in range(m):
                pos = length - 1 - t if in_dirs[k] else t
                index = ", ".join([":"] * axes[k] + [str(pos)]) if not opset8 else ", ".join(
                    [str(b)] + [":"] * (axes[k] - 1) + [str(pos)]
                )
                args.append((f"{scanned[k]}[{index}]", ctx.is_symbolic(first + n_state + k)))
            outs = ctx.subgraph(body, args, None, types)
            states = outs[:n_state]
            for k in range(n_scan_out):
                per_step[k].append(outs[n_state + k][0])
        states_all.append([code for code, _ in states])
        stacked = []
        for k in range(n_scan_out):
            items = per_step[k][::-1] if out_dirs[k] else per_step[k]
            rank = (body.outputs[n_state + k].rank or 0) + 1
            a = out_axes[k]
            if not -rank <= a < rank:
                raise ctx.refuse(f"scan output axis {a} is out of range")
            stacked.append(f"ops.stack([{', '.join(items)}], axis={a % rank})")
        outs_all.append(stacked)
    for j, (elem, shape) in enumerate(ctx.subgraph_types()):
        if shape is not None and j >= n_state:
            k = j - n_state
            shape = (*shape[: out_axes[k] % (len(shape) + 1)], length, *shape[out_axes[k] % (len(shape) + 1):])
        if shape is not None and opset8:
            shape = (n_items, *shape)
        ctx.set_out_type(j, elem, shape)
    if not opset8:
        return states_all[0] + outs_all[0]
    # Scan-8: stack the per-item results back along the batch axis
    results = [f"ops.stack([{', '.join(s[k] for s in states_all)}], axis=0)" for k in range(n_state)]
    results += [f"ops.stack([{', '.join(o[k] for o in outs_all)}], axis=0)" for k in range(n_scan_out)]
    return results


def _drop(shape: tuple[ir.Dim, ...] | None, axis: int | None) -> tuple[ir.Dim, ...] | None:
    """`shape` without dimension `axis` (None: unchanged)."""
    if shape is None or axis is None:
        return shape
    return tuple(d for i, d in enumerate(shape) if i != axis)
