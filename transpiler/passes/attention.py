"""Re-fusion of scaled dot-product attention into ONNX `Attention` (opset 23 semantics).

Matches softmax(Q Kᵀ · s) V over 4-D (batch, heads, seq, head) tensors, where the exporter wrote
the scaling either on the scores (`(q @ kᵀ) * s`, `/ d`) or split over both operands
(`(q * √s) @ (kᵀ * √s)`, which is exactly how ONNX defines the op's scaling), and Kᵀ either as a
Transpose of the last two axes or as the reshape / transpose / reshape chain dynamo writes.

Only exact, private chains are fused: static shapes that need no broadcasting, no mask, float32
or float64 (so the target need not reproduce low-precision rounding), and every intermediate value
read by the next op alone.
"""

from __future__ import annotations

import numpy as np

from .. import ir


def fuse_attention(graph: ir.Graph) -> int:
    count = 0
    for g in [s for node in graph.nodes for s in node.subgraphs()]:
        count += fuse_attention(g)
    m = _Chain(graph)
    removed: set[int] = set()
    for sm in graph.nodes:
        if sm.op_type != "Softmax" or sm.domain or id(sm) in removed:
            continue
        found = _match(m, sm)
        if found is None:
            continue
        q, k, v, scale, dead, out_node = found
        out_node.op_type, out_node.domain = "Attention", ""
        out_node.inputs = [q, k, v]
        head = q.static_shape[-1]
        # the default scale 1/sqrt(head) up to float32 rounding (what the exporter computed) is left out
        default = abs(scale * np.sqrt(head) - 1.0) <= 2 * float(np.finfo(np.float32).eps)
        out_node.attrs = {} if default else {"scale": float(scale)}
        removed.update(id(n) for n in dead)
        count += 1
    if removed:
        graph.nodes = [n for n in graph.nodes if id(n) not in removed]
    return count


class _Chain:
    def __init__(self, graph: ir.Graph) -> None:
        self.users = graph.users()
        self.outputs = {id(v) for v in graph.outputs}

    def private(self, v: ir.Value | None, reader: ir.Node) -> bool:
        """v is read by `reader` alone (once) and is no graph output."""
        if v is None or id(v) in self.outputs:
            return False
        users = self.users.get(id(v), [])
        return len(users) == 1 and users[0] is reader and sum(x is v for x in reader.inputs) == 1


def _match(m: _Chain, sm: ir.Node):  # type: ignore[no-untyped-def]
    scores, probs = sm.input(0), sm.output(0)
    if scores is None or probs is None or scores.rank != 4 or sm.attr("axis", -1) not in (-1, 3):
        return None
    if scores.elem not in (ir.FLOAT, ir.DOUBLE):
        return None
    users = m.users.get(id(probs), [])
    if len(users) != 1 or id(probs) in m.outputs:
        return None
    mm2 = users[0]
    if mm2.op_type != "MatMul" or mm2.domain or mm2.input(0) is not probs or mm2.input(1) is probs:
        return None
    v = mm2.input(1)
    dead: list[ir.Node] = [sm]
    pre = scores.producer
    if pre is None or not m.private(scores, sm):
        return None
    scale = 1.0
    if pre.op_type in ("Mul", "Div") and not pre.domain:
        c = _scalar(pre.input(1))
        if c is None or c == 0 or pre.input(0) is None:
            return None
        scale = c if pre.op_type == "Mul" else 1.0 / c
        dead.append(pre)
        inner = pre.input(0)
        mm1 = inner.producer if inner is not None else None
        if mm1 is None or not m.private(inner, pre):
            return None
    else:
        mm1 = pre
    if mm1.op_type != "MatMul" or mm1.domain:
        return None
    dead.append(mm1)
    qs, kts = mm1.input(0), mm1.input(1)
    if qs is None or kts is None or qs is kts:
        return None
    q, sq = _unscale(m, qs, mm1, dead)
    kt, sk = _unscale(m, kts, mm1, dead)
    if (sq is None) != (sk is None) or (sq is not None and scale != 1.0):
        return None
    if sq is not None and sk is not None:
        if sq != sk:
            return None
        scale = sq * sk
    k = _untranspose(m, kt, dead)
    if k is None or q is None or v is None:
        return None
    shapes = [x.static_shape for x in (q, k, v)]
    if any(s is None or len(s) != 4 for s in shapes):
        return None
    (b, h, n_q, d), (kb, kh, n_k, kd), (vb, vh, vn, _) = shapes  # type: ignore[misc]
    if (b, h) != (kb, kh) or (b, h) != (vb, vh) or d != kd or n_k != vn:
        return None
    if any(x.elem != scores.elem for x in (q, k, v)) or mm2.outputs[0] is None:
        return None
    return q, k, v, scale, dead, mm2


def _scalar(v: ir.Value | None) -> float | None:
    if v is None or v.const is None or v.const.size != 1 or v.const.dtype.kind != "f":
        return None
    return float(v.const.reshape(()))


def _unscale(m: _Chain, v: ir.Value, reader: ir.Node, dead: list[ir.Node]) -> tuple[ir.Value | None, float | None]:
    """v = x * c with scalar c private to `reader` -> (x, c); else (v, None)."""
    p = v.producer
    if p is None or p.op_type != "Mul" or p.domain or not m.private(v, reader):
        return v, None
    a, b = p.input(0), p.input(1)
    c, x = _scalar(b), a
    if c is None:
        c, x = _scalar(a), b
    if c is None or x is None or x.shape != v.shape:
        return v, None
    dead.append(p)
    return x, c


def _untranspose(m: _Chain, kt: ir.Value, dead: list[ir.Node]) -> ir.Value | None:
    """The K whose last two axes swapped give kt (a 4-D value), or None."""
    p = kt.producer
    if p is None or p.domain:
        return None
    users = m.users.get(id(kt), [])
    if len(users) != 1 or id(kt) in m.outputs:
        return None
    if p.op_type == "Transpose" and list(p.attr("perm") or []) == [0, 1, 3, 2] and p.input(0) is not None:
        dead.append(p)
        return p.input(0)
    # dynamo: reshape (B*H, S, D) -> transpose (0, 2, 1) -> reshape (B, H, D, S)
    if p.op_type != "Reshape":
        return None
    mid = p.input(0)
    t = mid.producer if mid is not None else None
    if t is None or t.op_type != "Transpose" or list(t.attr("perm") or []) != [0, 2, 1] or not m.private(mid, p):
        return None
    flat = t.input(0)
    r = flat.producer if flat is not None else None
    if r is None or r.op_type != "Reshape" or not m.private(flat, t):
        return None
    k = r.input(0)
    ks, fs, out = (k.static_shape if k else None), flat.static_shape, kt.static_shape
    if ks is None or fs is None or out is None or len(ks) != 4:
        return None
    b, h, s, d = ks
    if fs != (b * h, s, d) or out != (b, h, d, s):
        return None
    dead.extend([r, t, p])
    return k


__all__ = ["fuse_attention"]
