"""Constant folding: a node whose inputs are all constants becomes a constant.

Values are computed with ONNX's own reference implementation (it ships with the `onnx`
package), so folding is exact by the spec's definition. Shape/Size of a statically known
shape fold too; a symbolic dimension keeps the Shape node (and the batch size free).
"""

from __future__ import annotations

import numpy as np

from .. import ir

# Ops whose result is not a function of their inputs, or which carry subgraphs.
NOT_FOLDABLE = frozenset(
    {
        "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
        "Bernoulli", "Dropout", "If", "Loop", "Scan", "SequenceMap", "ImageDecoder",
        "Optional", "OptionalHasElement", "OptionalGetElement", "SequenceEmpty", "SequenceConstruct",
        "SequenceInsert", "SequenceAt", "SequenceErase", "SequenceLength", "SplitToSequence",
        "ConcatFromSequence",
    }
)
MIN_BUDGET = 4096  # a folded result may be this many elements even if its inputs are smaller


def fold_constants(graph: ir.Graph) -> int:
    """Fold in place (subgraphs too); returns how many nodes were folded."""
    folded = 0
    keep: list[ir.Node] = []
    for node in graph.nodes:
        for g in node.subgraphs():
            folded += fold_constants(g)
        values = _try_fold(node)
        if values is None:
            keep.append(node)
            continue
        for out, arr in zip(node.outputs, values):
            if out is not None:
                out.const = arr
                out.shape = tuple(arr.shape)
                out.producer = None
        folded += 1
    graph.nodes = keep
    return folded


def _try_fold(node: ir.Node) -> list[np.ndarray] | None:
    if node.domain != "" or node.op_type in NOT_FOLDABLE or any(True for _ in node.subgraphs()):
        return None
    if node.op_type in ("Shape", "Size"):
        return _fold_shape(node)
    if not all(v is None or v.is_const for v in node.inputs):
        return None
    if any(v is not None and v.const.dtype == object for v in node.inputs):
        return None
    if any(v is not None and v.kind != "tensor" for v in [*node.inputs, *node.outputs]):
        return None
    budget = max(MIN_BUDGET, sum(v.const.size for v in node.inputs if v is not None))
    expected = [v.static_shape for v in node.outputs if v is not None]
    if any(s is not None and int(np.prod(s, dtype=np.int64)) > budget for s in expected):
        return None
    try:
        results = evaluate(node, [None if v is None else v.const for v in node.inputs])
    except Exception:
        return None  # leave it to the target; a lowering will refuse it with a reason if needed
    if any(r is None or not isinstance(r, np.ndarray) or r.size > budget or r.dtype == object for r in results):
        return None
    return results


def _fold_shape(node: ir.Node) -> list[np.ndarray] | None:
    x = node.inputs[0]
    if x is None:
        return None
    shape = x.static_shape if x.const is None else tuple(x.const.shape)
    if shape is None:
        return None
    if node.op_type == "Size":
        return [np.array(int(np.prod(shape, dtype=np.int64)), dtype=np.int64)]
    rank = len(shape)
    start = node.attr("start", 0)
    end = node.attr("end", rank)
    start = min(max(start + rank if start < 0 else start, 0), rank)
    end = min(max(end + rank if end < 0 else end, 0), rank)
    return [np.array(shape[start:end], dtype=np.int64)]


def evaluate(node: ir.Node, inputs: list[np.ndarray | None]) -> list[np.ndarray]:
    """Run one IR node with ONNX's reference implementation."""
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    in_names = [f"i{k}" if a is not None else "" for k, a in enumerate(inputs)]
    out_names = [f"o{k}" if v is not None else "" for k, v in enumerate(node.outputs)]
    attrs = {}
    for key, val in node.attrs.items():
        if key.startswith("_"):
            raise ValueError("private attribute")
        attrs[key] = numpy_helper.from_array(val) if isinstance(val, np.ndarray) else val
    proto = helper.make_node(node.op_type, in_names, out_names, domain=node.domain, **attrs)
    feeds = {n: a for n, a in zip(in_names, inputs) if n}
    graph = helper.make_graph(
        [proto],
        "fold",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape) for n, a in feeds.items()],
        [helper.make_tensor_value_info(n, 0, None) for n in out_names if n],
    )
    import onnx

    opset = helper.make_opsetid(node.domain, onnx.defs.onnx_opset_version() if node.domain == "" else 1)
    model = helper.make_model(graph, opset_imports=[opset], ir_version=onnx.IR_VERSION)
    outs = ReferenceEvaluator(model).run(None, feeds)
    wanted = [n for n in out_names if n]
    by_name = dict(zip(wanted, outs))
    return [np.asarray(by_name[n]) if n else None for n in out_names]  # type: ignore[misc]
