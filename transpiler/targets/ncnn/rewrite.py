"""IR rewrites for ncnn's 4-d limit: picks from a tensor ncnn cannot hold are moved above the
Transpose / Reshape that made it.

Attention blocks often reshape to 5 dims and permute them, only to take q, k and v apart again
(`qkv.reshape(B, N, 3, H, D).permute(2, 0, 3, 1, 4).unbind(0)`). ncnn blobs hold at most 4 dims
besides the batch, but each piece has one axis fewer. A pick along one axis (Split, a one-axis
Slice with step 1, Gather of one constant index) commutes with data movement:

- pick(Transpose(x, perm), axis a) == Transpose(pick(x, axis perm[a]), perm);
- pick(Reshape(z, S), axis a) == Reshape(pick(z, axis m, scaled range), S with the picked size),
  when the axes of S before a hold exactly the elements of z's axes before m, and the range,
  counted in elements, falls on whole steps of z's axis m.

Both are exact (the same elements in the same order), so the pieces are computed without the big
tensor ever existing. The pass only touches values ncnn cannot hold, so other graphs keep their
shape.
"""

from __future__ import annotations

import math

import numpy as np

from ... import ir
from ...errors import UnsupportedOp
from ...passes.dce import eliminate_dead_code
from .shapes import ncnn_shape

MAX_ROUNDS = 64  # each round moves picks one node up; real models need two or three


def split_big_tensors(graph: ir.Graph) -> int:
    """Move picks above Transposes / Reshapes whose output has too many dims; returns how many
    producers were bypassed."""
    count = 0
    for _ in range(MAX_ROUNDS):
        changed = _one_round(graph)
        if not changed:
            break
        count += changed
        eliminate_dead_code(graph)
    return count


def _holdable(shape: tuple[int, ...]) -> bool:
    try:
        ncnn_shape(shape)
    except UnsupportedOp:
        return False
    return True


def _one_round(graph: ir.Graph) -> int:
    users = graph.users()
    outputs = {id(v) for v in graph.outputs}
    for node in graph.nodes:
        if node.domain or node.op_type not in ("Transpose", "Reshape") or len(node.outputs) != 1:
            continue
        y = node.outputs[0]
        shape = y.static_shape if y is not None else None
        if shape is None or id(y) in outputs or _holdable(shape):
            continue
        readers = users.get(id(y), [])
        picks = [_picks(r, y) for r in readers]
        if not readers or any(p is None for p in picks):
            continue
        new_nodes: dict[int, list[ir.Node]] = {}
        for reader, reader_picks in zip(readers, picks):
            made: list[ir.Node] = []
            for axis, start, end, out, out_shape in reader_picks:  # type: ignore[union-attr]
                piece = _pick_through(node, shape, axis, start, end, made)
                if piece is None:
                    break
                if out_shape != piece.static_shape:
                    _emit(made, "Reshape", [piece, _ints(out_shape)], out, {"allowzero": 0})
                else:
                    made[-1].outputs = [out]
                    out.producer = made[-1]
            else:
                new_nodes[id(reader)] = made
                continue
            break
        if len(new_nodes) != len(readers):
            for reader_picks in picks:  # abandoned: the outputs keep their producers
                for *_, out, _ in reader_picks:  # type: ignore[union-attr]
                    out.producer = next(r for r in readers if out in r.outputs)
            continue
        rebuilt: list[ir.Node] = []
        for n in graph.nodes:
            rebuilt.extend(new_nodes.get(id(n), [n]))
        graph.nodes = rebuilt
        return 1
    return 0


Pick = tuple[int, int, int, ir.Value, tuple[int, ...]]  # axis, start, end, output value, its shape


def _picks(reader: ir.Node, y: ir.Value) -> list[Pick] | None:
    """The reader as picks along one axis of y ((axis, start, end, output, output shape) each),
    or None when it is something else."""
    if reader.domain or reader.input(0) is not y or any(v is y for v in reader.inputs[1:]):
        return None
    shape = y.static_shape
    assert shape is not None
    r = len(shape)
    if reader.op_type == "Split":
        axis = int(reader.attr("axis", 0)) % r
        sizes_v = reader.input(1)
        if sizes_v is not None:
            if sizes_v.const is None:
                return None
            sizes = [int(s) for s in sizes_v.const.reshape(-1)]
        else:
            n = len(reader.outputs)
            k = -(-shape[axis] // n)
            sizes = [k] * (n - 1) + [shape[axis] - k * (n - 1)]
        if sum(sizes) != shape[axis] or any(s <= 0 for s in sizes) or len(sizes) != len(reader.outputs):
            return None
        out, start = [], 0
        for size, v in zip(sizes, reader.outputs):
            if v is not None:
                o = list(shape)
                o[axis] = size
                out.append((axis, start, start + size, v, tuple(o)))
            start += size
        return out
    if reader.op_type == "Slice":
        consts = [reader.input(i) for i in range(1, 5)]
        if any(v is not None and v.const is None for v in consts) or consts[0] is None or consts[1] is None:
            return None
        starts, ends = consts[0].const.reshape(-1), consts[1].const.reshape(-1)
        axes = consts[2].const.reshape(-1) if consts[2] is not None else np.arange(len(starts))
        steps = consts[3].const.reshape(-1) if consts[3] is not None else np.ones(len(starts), np.int64)
        ranges = {}
        for s, e, a, st in zip(starts, ends, axes, steps):
            a, dim = int(a) % r, shape[int(a) % r]
            if int(st) != 1:
                return None
            s = min(max(int(s) + dim if s < 0 else int(s), 0), dim)
            e = min(max(int(e) + dim if e < 0 else int(e), 0), dim)
            if e <= s:
                return None
            if (s, e) != (0, dim):
                ranges[a] = (s, e)
        if len(ranges) != 1:
            return None
        ((axis, (s, e)),) = ranges.items()
        o = list(shape)
        o[axis] = e - s
        return [(axis, s, e, reader.outputs[0], tuple(o))]
    if reader.op_type == "Gather":
        idx = reader.input(1)
        if idx is None or idx.const is None or idx.const.size != 1:
            return None
        axis = int(reader.attr("axis", 0)) % r
        i = int(idx.const.reshape(()))
        i = i + shape[axis] if i < 0 else i
        if not 0 <= i < shape[axis]:
            return None
        out_shape = shape[:axis] + tuple(int(d) for d in idx.const.shape) + shape[axis + 1:]
        return [(axis, i, i + 1, reader.outputs[0], out_shape)]
    return None


def _pick_through(node: ir.Node, shape: tuple[int, ...], axis: int, start: int, end: int, made: list[ir.Node]) -> ir.Value | None:
    """Emit (into `made`) the pick of `node`'s output computed from its input; returns the piece,
    shaped like the output with `axis` cut to [start, end), or None when the pick cannot pass."""
    x = node.input(0)
    xs = x.static_shape if x is not None else None
    if xs is None or x.const is not None:
        return None
    piece_shape = shape[:axis] + (end - start,) + shape[axis + 1:]
    if node.op_type == "Transpose":
        perm = [int(p) for p in node.attr("perm", list(reversed(range(len(xs)))))]
        xa = perm[axis]
        x_piece = _slice(made, x, xs, xa, start, end)
        return _emit(made, "Transpose", [x_piece], _value(x, piece_shape, "t"), {"perm": perm})
    # Reshape: find z's axis m whose outer elements are y's outer elements
    outer = math.prod(shape[:axis])
    inner = math.prod(shape[axis + 1:])
    for m in reversed(range(len(xs))):
        if math.prod(xs[:m]) != outer:
            continue
        z_inner = math.prod(xs[m + 1:])
        if (start * inner) % z_inner or (end * inner) % z_inner:
            return None
        x_piece = _slice(made, x, xs, m, start * inner // z_inner, end * inner // z_inner)
        return _emit(made, "Reshape", [x_piece, _ints(piece_shape)], _value(x, piece_shape, "r"), {"allowzero": 0})
    return None


def _slice(made: list[ir.Node], x: ir.Value, xs: tuple[int, ...], axis: int, start: int, end: int) -> ir.Value:
    if (start, end) == (0, xs[axis]):
        return x
    shape = xs[:axis] + (end - start,) + xs[axis + 1:]
    return _emit(made, "Slice", [x, _ints([start]), _ints([end]), _ints([axis])], _value(x, shape, "s"))


def _emit(made: list[ir.Node], op: str, inputs: list[ir.Value], out: ir.Value, attrs: dict | None = None) -> ir.Value:
    node = ir.Node(op, list(inputs), [out], dict(attrs or {}), name=f"{out.name}_{op.lower()}")
    out.producer = node
    made.append(node)
    return out


def _value(like: ir.Value, shape: tuple[int, ...], tag: str) -> ir.Value:
    return ir.Value(f"{like.name}_{tag}", like.elem, tuple(int(d) for d in shape))


def _ints(values) -> ir.Value:  # type: ignore[no-untyped-def]
    arr = np.array([int(v) for v in values], dtype=np.int64)
    return ir.Value("shape", ir.INT64, (arr.size,), const=arr)
