"""Dead code elimination: drop nodes nothing reads (graph outputs and subgraphs count as readers)."""

from __future__ import annotations

from .. import ir


def eliminate_dead_code(graph: ir.Graph) -> int:
    """Remove, in place, nodes whose outputs are never used; returns how many were removed."""
    removed = 0
    live: set[int] = {id(v) for v in graph.outputs}
    kept: list[ir.Node] = []
    for node in reversed(graph.nodes):
        if not any(v is not None and id(v) in live for v in node.outputs) and node.op_type not in _EFFECTFUL:
            removed += 1
            continue
        kept.append(node)
        for g in node.subgraphs():
            removed += eliminate_dead_code(g)
            live.update(id(v) for v in ir.captured_values(g))
        live.update(id(v) for v in node.inputs if v is not None)
    graph.nodes = kept[::-1]
    graph.initializers = [v for v in graph.initializers if id(v) in live]
    return removed


_EFFECTFUL: frozenset[str] = frozenset()
