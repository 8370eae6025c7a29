"""Re-fusion of a layer norm written out in primitive ops into ONNX `LayerNormalization`.

    mean = ReduceMean(x, [-1]); d = x - mean; var = ReduceMean(d ** 2, [-1])
    y = d / Sqrt(var + eps)  [* gamma]  [+ beta]

over the last axis, with constant gamma / beta of that axis's size, as exporters before opset 17
write `nn.LayerNorm`. Every intermediate must be private to the chain.
"""

from __future__ import annotations

import numpy as np

from .. import ir


def fuse_layer_norm(graph: ir.Graph) -> int:
    count = 0
    for g in [s for node in graph.nodes for s in node.subgraphs()]:
        count += fuse_layer_norm(g)
    users = graph.users()
    outputs = {id(v) for v in graph.outputs}
    removed: set[int] = set()
    for div in graph.nodes:
        if div.op_type != "Div" or div.domain or id(div) in removed:
            continue
        found = _match(div, users, outputs)
        if found is None:
            continue
        x, eps, gamma, beta, dead, last = found
        c = x.shape[-1]  # type: ignore[index]
        scale = gamma if gamma is not None else _const(np.ones(c, dtype=np.float32), f"{div.name}/ones")
        inputs: list[ir.Value | None] = [x, scale] + ([beta] if beta is not None else [])
        last.op_type, last.domain = "LayerNormalization", ""
        last.inputs = inputs
        last.attrs = {"axis": -1, "epsilon": float(eps)}
        removed.update(id(n) for n in dead if n is not last)
        count += 1
    if removed:
        graph.nodes = [n for n in graph.nodes if id(n) not in removed]
    return count


def _const(arr: np.ndarray, name: str) -> ir.Value:
    return ir.Value(name=name, elem=ir.FLOAT, shape=tuple(arr.shape), const=arr)


def _only(users: dict[int, list[ir.Node]], outputs: set[int], v: ir.Value | None, n: int = 1) -> list[ir.Node] | None:
    if v is None or id(v) in outputs:
        return None
    us = users.get(id(v), [])
    return us if len(us) == n else None


def _last_axis_mean(node: ir.Node | None, x: ir.Value) -> bool:
    if node is None or node.op_type != "ReduceMean" or node.domain or node.input(0) is not x:
        return False
    if not node.attr("keepdims", 1) or node.attr("noop_with_empty_axes", 0):
        return False
    axes = node.input(1)
    rank = x.rank
    if axes is None or axes.const is None or rank is None:
        return False
    return [int(a) % rank for a in np.asarray(axes.const).reshape(-1)] == [rank - 1]


def _scalar(v: ir.Value | None) -> float | None:
    if v is None or v.const is None or v.const.size != 1 or v.const.dtype.kind != "f":
        return None
    return float(v.const.reshape(()))


def _match(div: ir.Node, users: dict[int, list[ir.Node]], outputs: set[int]):  # type: ignore[no-untyped-def]
    d, s = div.input(0), div.input(1)
    sub = d.producer if d is not None else None
    sq = s.producer if s is not None else None
    if sub is None or sub.op_type != "Sub" or sq is None or sq.op_type != "Sqrt":
        return None
    x, mean = sub.input(0), sub.input(1)
    if x is None or mean is None or x.elem != ir.FLOAT or x.shape is None or not isinstance(x.shape[-1], int):
        return None
    if not _last_axis_mean(mean.producer, x) or _only(users, outputs, mean) is None:
        return None
    d_users = _only(users, outputs, d, 2)
    if d_users is None or div not in d_users:
        return None
    sq_node = next(n for n in d_users if n is not div)
    if sq_node.op_type != "Pow" or sq_node.input(0) is not d or _scalar(sq_node.input(1)) != 2.0:
        return None
    p = sq_node.output(0)
    if _only(users, outputs, p) is None:
        return None
    var_node = users[id(p)][0]
    if not _last_axis_mean(var_node, p):
        return None
    var = var_node.output(0)
    if _only(users, outputs, var) is None:
        return None
    add = users[id(var)][0]
    if add.op_type != "Add" or add.input(0) is not var:
        return None
    eps = _scalar(add.input(1))
    if eps is None or add.output(0) is not sq.input(0) or _only(users, outputs, add.output(0)) is None:
        return None
    if _only(users, outputs, s) is None:
        return None
    dead = [mean.producer, sub, sq_node, var_node, add, sq, div]
    last, y = div, div.output(0)
    c = x.shape[-1]
    gamma = beta = None
    nxt = _only(users, outputs, y)
    if nxt is not None and nxt[0].op_type == "Mul" and nxt[0].input(0) is y and _vector(nxt[0].input(1), c):
        gamma, last = nxt[0].input(1), nxt[0]
        dead.append(last)
        y = last.output(0)
        nxt = _only(users, outputs, y)
        if nxt is not None and nxt[0].op_type == "Add" and nxt[0].input(0) is y and _vector(nxt[0].input(1), c):
            beta, last = nxt[0].input(1), nxt[0]
            dead.append(last)
    return x, eps, gamma, beta, dead, last


def _vector(v: ir.Value | None, c: int) -> bool:
    return v is not None and v.const is not None and v.const.shape == (c,) and v.const.dtype == np.float32


__all__ = ["fuse_layer_norm"]
