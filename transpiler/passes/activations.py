"""Re-fusion of activations that exporters write as two ops, into the ONNX op they are.

- SiLU / Swish: Mul(x, Sigmoid(x)) -> `Swish` (alpha=1; ONNX opset 24).
- HardSwish: Mul(x, HardSigmoid(x, alpha=1/6, beta=1/2)) -> `HardSwish`.

Only private chains are fused: the gate (Sigmoid / HardSigmoid output) has the Mul as its only
reader, so no value other targets or outputs need disappears. A gate applied to another tensor
(a squeeze-excitation block's `x * sigmoid(s)`) is no activation and stays as it is.
"""

from __future__ import annotations

from .. import ir


def fuse_silu(graph: ir.Graph) -> int:
    """x * sigmoid(x) -> Swish(x)."""
    return _fuse_gate(graph, "Sigmoid", "Swish", lambda n: True, {"alpha": 1.0})


def fuse_hardswish(graph: ir.Graph) -> int:
    """x * hard_sigmoid(x) with alpha 1/6, beta 1/2 -> HardSwish(x)."""
    def exact(n: ir.Node) -> bool:
        return abs(float(n.attr("alpha", 0.2)) - 1 / 6) <= 1e-7 and abs(float(n.attr("beta", 0.5)) - 0.5) <= 1e-7

    return _fuse_gate(graph, "HardSigmoid", "HardSwish", exact, {})


def _fuse_gate(graph: ir.Graph, gate_op: str, fused_op: str, accept, attrs: dict) -> int:  # type: ignore[no-untyped-def]
    count = 0
    for g in [s for node in graph.nodes for s in node.subgraphs()]:
        count += _fuse_gate(g, gate_op, fused_op, accept, attrs)
    users = graph.users()
    outputs = {id(v) for v in graph.outputs}
    removed: set[int] = set()
    for gate in graph.nodes:
        if gate.op_type != gate_op or gate.domain or not accept(gate):
            continue
        x, s = gate.input(0), gate.output(0)
        if x is None or s is None or id(s) in outputs or x.elem not in ir.FLOAT_TYPES:
            continue
        readers = users.get(id(s), [])
        if len(readers) != 1:
            continue
        mul = readers[0]
        if mul.op_type != "Mul" or mul.domain or len(mul.inputs) != 2:
            continue
        a, b = mul.inputs
        if not ((a is x and b is s) or (a is s and b is x)):
            continue
        out = mul.outputs[0]
        if out is None or out.shape != x.shape or out.elem != x.elem:
            continue
        mul.op_type, mul.inputs, mul.attrs = fused_op, [x], dict(attrs)
        removed.add(id(gate))
        count += 1
    if removed:
        graph.nodes = [n for n in graph.nodes if id(n) not in removed]
    return count


__all__ = ["fuse_hardswish", "fuse_silu"]
