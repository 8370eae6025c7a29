"""Re-fusion of ShuffleNet's channel shuffle into `transpiler::ChannelShuffle(groups=g)`.

    Reshape(x, (N, g, C/g, H, W)) -> Transpose(0, 2, 1, 3, 4) -> Reshape(N, C, H, W)

ONNX has no such op, so the fused node is private to the targets that register this pass and a
lowering for it (PyTorch: `F.channel_shuffle`). Shapes must be static and the intermediates private.
"""

from __future__ import annotations

from .. import ir
from .fuse import PRIVATE_DOMAIN


def fuse_channel_shuffle(graph: ir.Graph) -> int:
    count = 0
    for g in [s for node in graph.nodes for s in node.subgraphs()]:
        count += fuse_channel_shuffle(g)
    users = graph.users()
    outputs = {id(v) for v in graph.outputs}

    def private(v: ir.Value | None, reader: ir.Node) -> bool:
        return v is not None and id(v) not in outputs and users.get(id(v), []) == [reader]

    removed: set[int] = set()
    for last in graph.nodes:
        if last.op_type != "Reshape" or last.domain:
            continue
        mid = last.input(0)
        t = mid.producer if mid is not None else None
        if t is None or t.op_type != "Transpose" or t.domain or list(t.attr("perm") or []) != [0, 2, 1, 3, 4]:
            continue
        split = t.input(0)
        first = split.producer if split is not None else None
        if first is None or first.op_type != "Reshape" or first.domain:
            continue
        if not (private(mid, last) and private(split, t)):
            continue
        x, out = first.input(0), last.output(0)
        xs = x.static_shape if x is not None else None
        ss = split.static_shape if split is not None else None
        if xs is None or ss is None or out is None or len(xs) != 4 or out.static_shape != xs or x.elem not in ir.FLOAT_TYPES:
            continue
        n, c, h, w = xs
        g = ss[1]
        if g <= 0 or c % g or ss != (n, g, c // g, h, w):
            continue
        last.op_type, last.domain = "ChannelShuffle", PRIVATE_DOMAIN
        last.inputs, last.attrs = [x], {"groups": int(g)}
        removed.update((id(first), id(t)))
        count += 1
    if removed:
        graph.nodes = [n for n in graph.nodes if id(n) not in removed]
    return count


__all__ = ["fuse_channel_shuffle"]
