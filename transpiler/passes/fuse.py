"""Re-fusion of primitive-op chains that exporters emit for one high-level op.

- GELU: x * 0.5 * (1 + erf(x / sqrt(2))) in any of its usual spellings -> ONNX `Gelu`.
- Linear: Add(MatMul(x, W), b) with constant W (2-D) and bias b -> `transpiler::Linear`
  (x @ W + b; a private op, since ONNX's Gemm is 2-D only), for targets that have a linear layer.

A fused chain must be private: every intermediate value has exactly one reader, so nothing else
sees the values that disappear.
"""

from __future__ import annotations

import math

import numpy as np

from .. import ir

PRIVATE_DOMAIN = "transpiler"
SQRT2 = math.sqrt(2.0)


def _scalar(v: ir.Value | None) -> float | None:
    if v is None or v.const is None or v.const.size != 1 or v.const.dtype.kind not in "fiu":
        return None
    return float(v.const.reshape(()))


def _close(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) <= 1e-6 * abs(b)


class _Matcher:
    def __init__(self, graph: ir.Graph) -> None:
        self.graph = graph
        self.users = graph.users()
        self.outputs = {id(v) for v in graph.outputs}

    def only_user(self, v: ir.Value | None) -> ir.Node | None:
        """The single node reading v, when v is read exactly once and is no graph output."""
        if v is None or id(v) in self.outputs:
            return None
        users = self.users.get(id(v), [])
        return users[0] if len(users) == 1 else None

    @staticmethod
    def other(node: ir.Node, v: ir.Value) -> ir.Value | None:
        """The other operand of a binary node one of whose inputs is v."""
        a, b = node.input(0), node.input(1)
        return b if a is v else a if b is v else None


def fuse_gelu(graph: ir.Graph) -> int:
    """Erf-based GELU chains -> Gelu (approximate='none')."""
    count = 0
    for g in [n for node in graph.nodes for n in node.subgraphs()]:
        count += fuse_gelu(g)
    m = _Matcher(graph)
    removed: set[int] = set()
    replacements: dict[int, ir.Node] = {}
    for erf in graph.nodes:
        if erf.op_type != "Erf" or erf.domain or id(erf) in removed:
            continue
        scaled = erf.input(0)
        pre = scaled.producer if scaled is not None else None
        if pre is None or m.only_user(scaled) is not erf or pre.op_type not in ("Div", "Mul"):
            continue
        x = pre.input(0)
        if pre.op_type == "Div" and not _close(_scalar(pre.input(1)), SQRT2):
            continue
        if pre.op_type == "Mul":
            c = _scalar(pre.input(1))
            if not _close(c, 1 / SQRT2):
                x, c = pre.input(1), _scalar(pre.input(0))
                if not _close(c, 1 / SQRT2):
                    continue
        if x is None or x.elem not in ir.FLOAT_TYPES:
            continue
        add = m.only_user(erf.outputs[0])
        if add is None or add.op_type != "Add" or not _close(_scalar(m.other(add, erf.outputs[0])), 1.0):
            continue
        chain = _gelu_tail(m, x, add.outputs[0])
        if chain is None:
            continue
        nodes, out = chain
        scope = erf.name.rsplit("/", 1)[0] if "/" in erf.name else ""
        gelu = ir.Node("Gelu", [x], [out], {}, name=f"{scope}/Gelu")
        out.producer = gelu
        if id(out) not in m.outputs:  # name the value after what it now is (locals are named after values)
            out.name = f"{scope}/Gelu_output_0"
        for n in [pre, erf, add, *nodes]:
            removed.add(id(n))
        replacements[id(nodes[-1])] = gelu
        count += 1
    if count:
        graph.nodes = [replacements.get(id(n), n) for n in graph.nodes if id(n) not in removed or id(n) in replacements]
    return count


def _gelu_tail(m: _Matcher, x: ir.Value, one_plus_erf: ir.Value) -> tuple[list[ir.Node], ir.Value] | None:
    """Match the multiplications by x and 0.5 after (1 + erf); returns (nodes, final value)."""
    m1 = m.only_user(one_plus_erf)
    if m1 is None or m1.op_type != "Mul":
        return None
    other = m.other(m1, one_plus_erf)
    if other is x:  # x * (1 + erf) then * 0.5
        m2 = m.only_user(m1.outputs[0])
        if m2 is not None and m2.op_type == "Mul" and _close(_scalar(m.other(m2, m1.outputs[0])), 0.5):
            return [m1, m2], m2.outputs[0]
        return None
    if other is not None and _close(_scalar(other), 0.5):  # (1 + erf) * 0.5 then * x
        m2 = m.only_user(m1.outputs[0])
        if m2 is not None and m2.op_type == "Mul" and m.other(m2, m1.outputs[0]) is x:
            return [m1, m2], m2.outputs[0]
        return None
    half = other.producer if other is not None else None  # (x * 0.5) * (1 + erf)
    if (
        half is not None and half.op_type == "Mul" and m.only_user(other) is m1
        and m.other(half, x) is not None and _close(_scalar(m.other(half, x)), 0.5)
    ):
        return [half, m1], m1.outputs[0]
    return None


def fuse_linear(graph: ir.Graph) -> int:
    """Add(MatMul(x, W), b) -> transpiler::Linear(x, W, b) when W is a constant matrix and b a
    constant vector over W's columns (so the result's shape is MatMul's)."""
    count = 0
    for g in [n for node in graph.nodes for n in node.subgraphs()]:
        count += fuse_linear(g)
    m = _Matcher(graph)
    removed: set[int] = set()
    for mm in graph.nodes:
        if mm.op_type != "MatMul" or mm.domain:
            continue
        x, w = mm.input(0), mm.input(1)
        if w is None or w.const is None or w.const.ndim != 2 or x is None or x.elem not in ir.FLOAT_TYPES:
            continue
        if x.rank is None or x.rank < 1:
            continue
        add = m.only_user(mm.outputs[0])
        if add is None or add.op_type != "Add" or add.domain:
            continue
        b = m.other(add, mm.outputs[0])
        n_out = w.const.shape[1]
        if b is None or b.const is None or b.const.dtype != w.const.dtype or b.const.size != n_out:
            continue
        out_rank = mm.outputs[0].rank
        if b.const.ndim > 1 and (out_rank is None or b.const.ndim > out_rank):
            continue
        if b.const.shape[-1:] != (n_out,):
            continue
        mm.op_type, mm.domain = "Linear", PRIVATE_DOMAIN
        mm.name = add.name or mm.name  # torch exporters name the Add after the nn.Linear call
        mm.inputs = [x, w, b]
        mm.outputs = [add.outputs[0]]
        add.outputs[0].producer = mm
        removed.add(id(add))
        count += 1
    if removed:
        graph.nodes = [n for n in graph.nodes if id(n) not in removed]
    return count


__all__ = ["PRIVATE_DOMAIN", "fuse_gelu", "fuse_linear", "np"]
