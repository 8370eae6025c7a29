"""Repeated-block detection: find sub-graphs that a person would write once as a class.

The graph is cut wherever exactly one computed tensor is live (the residual stream of a ResNet or
a transformer between blocks). The pieces between cuts are compared structurally (ops, attribute
names, wiring; not attribute values or weight shapes, so blocks that differ only in channel counts
or strides match), and pieces whose structure occurs more than once are candidate blocks. Two
candidate kinds that always occur as a pair (every A directly followed by a B and every B directly
preceded by an A, like a transformer's attention half and MLP half) are merged into one block.

This is an analysis: it returns the candidates and leaves the graph alone. A target checks that
the instances really lower to the same code before it shares a class between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import ir

MIN_NODES = 2  # a single op is no block


@dataclass(eq=False)
class Piece:
    """A run of consecutive nodes between two cuts: reads one value (`input`) plus constants,
    produces one value (`output`) that everything after it reads."""

    nodes: list[ir.Node]
    input: ir.Value | None
    output: ir.Value | None
    kind: int | None = None  # candidate kind (same structure); None: not a block
    sig: str | None = None  # its structure, when it is self-contained


def find_blocks(graph: ir.Graph) -> list[Piece]:
    """The graph's nodes as consecutive pieces, in order; those with `kind` set are instances of
    a repeated structure (the same kind number for the same structure)."""
    pieces = _cut(graph)
    counts: dict[str, int] = {}
    for p in pieces:
        p.sig = _signature(p) if p.input is not None and p.output is not None else None
        if p.sig is not None and len(p.nodes) >= MIN_NODES:
            counts[p.sig] = counts.get(p.sig, 0) + 1
    kinds: dict[str, int] = {}
    for p in pieces:
        if p.sig is not None and counts.get(p.sig, 0) >= 2:
            p.kind = kinds.setdefault(p.sig, len(kinds))
    return _merge_pairs(_merge_tails(pieces))


def _cut(graph: ir.Graph) -> list[Piece]:
    nodes = graph.nodes
    end = len(nodes)
    last: dict[int, int] = {}  # id(value) -> index of its last reader (end: read by the graph output)
    for i, n in enumerate(nodes):
        for v in n.inputs:
            if v is not None and v.const is None:
                last[id(v)] = i
        for g in n.subgraphs():
            for v in ir.captured_values(g):
                if v.const is None:
                    last[id(v)] = i
    for v in graph.outputs:
        last[id(v)] = end
    live: dict[int, ir.Value] = {id(v): v for v in graph.inputs if v.const is None and id(v) in last}
    pieces: list[Piece] = []
    start, entry = 0, _only(live)
    for i, n in enumerate(nodes):
        for v in n.outputs:
            if v is not None and last.get(id(v), -1) > i:
                live[id(v)] = v
        for key in [k for k in live if last[k] == i]:
            del live[key]
        only = _only(live)
        if only is not None and only.kind == "tensor" and i + 1 < end:
            pieces.append(Piece(nodes[start:i + 1], entry, only))
            start, entry = i + 1, only
    if start < end:
        pieces.append(Piece(nodes[start:], entry, None))
    return pieces


def _only(live: dict[int, ir.Value]) -> ir.Value | None:
    return next(iter(live.values())) if len(live) == 1 else None


def _signature(p: Piece) -> str | None:
    local: dict[int, str] = {id(p.input): "in"}
    parts = []
    for j, n in enumerate(p.nodes):
        if any(True for _ in n.subgraphs()):
            return None
        ins = []
        for v in n.inputs:
            if v is None:
                ins.append("-")
            elif id(v) in local:
                ins.append(local[id(v)])
            elif v.const is not None:
                ins.append(f"c{v.elem}r{v.const.ndim}")
            else:
                return None  # reads something from outside: no self-contained block
        for k, v in enumerate(n.outputs):
            if v is not None:
                local[id(v)] = f"{j}.{k}"
        parts.append(f"{n.domain}:{n.op_type}({','.join(ins)}){sorted(n.attrs)}")
    if id(p.output) not in local:
        return None
    parts.append(f"->{local[id(p.output)]}")
    return ";".join(parts)


def _merge_tails(pieces: list[Piece]) -> list[Piece]:
    """A single op that follows every instance of a kind (the ReLU after a residual Add) belongs to
    the block."""
    while True:
        tails: dict[int, set[str | None]] = {}
        for a, b in zip(pieces, [*pieces[1:], None]):
            if a.kind is not None:
                single = b.sig if b is not None and b.kind is None and len(b.nodes) == 1 else None
                tails.setdefault(a.kind, set()).add(single)
        kind = next((k for k in sorted(tails) if len(tails[k]) == 1 and None not in tails[k]), None)
        if kind is None:
            return pieces
        out: list[Piece] = []
        for a, b in zip([None, *pieces], pieces):
            if a is not None and a.kind == kind:
                out[-1] = Piece(a.nodes + b.nodes, a.input, b.output, kind, f"{a.sig}|{b.sig}")
            else:
                out.append(b)
        pieces = out


def _merge_pairs(pieces: list[Piece]) -> list[Piece]:
    """Merge kinds A, B where every A is directly followed by a B and every B directly preceded
    by an A, until nothing changes."""
    while True:
        follows: dict[int, set[int | None]] = {}
        precedes: dict[int, set[int | None]] = {}
        for a, b in zip([None, *pieces], [*pieces, None]):
            ka = a.kind if a is not None else None
            kb = b.kind if b is not None else None
            if ka is not None:
                follows.setdefault(ka, set()).add(kb)
            if kb is not None:
                precedes.setdefault(kb, set()).add(ka)
        pair = next(
            (
                (a, b) for a in sorted(follows)
                if len(follows[a]) == 1 and (b := next(iter(follows[a]))) is not None and b != a
                and precedes.get(b) == {a}
            ),
            None,
        )
        if pair is None:
            return pieces
        a, b = pair
        out: list[Piece] = []
        for p in pieces:
            if p.kind == b and out and out[-1].kind == a:
                prev = out[-1]
                out[-1] = Piece(prev.nodes + p.nodes, prev.input, p.output, a, f"{prev.sig}|{p.sig}")
            else:
                out.append(p)
        pieces = out


__all__ = ["Piece", "find_blocks"]
