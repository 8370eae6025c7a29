"""Canonicalise ONNX nodes of older opsets to the newest form, so each lowering is written once.

A rule is registered per op with the first opset whose form it does NOT need to change
(`before`): a node of an older opset is rewritten. Typical rewrites move attributes that later
opsets turned into inputs (`axes`, `split`, `pads`, `min`/`max`, …) into constant inputs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import ir
from ..errors import InvalidModel

Rule = Callable[[ir.Node, ir.Graph], list[ir.Node]]
_RULES: dict[str, list[tuple[int, Rule]]] = {}


def rule(*ops: str, before: int) -> Callable[[Rule], Rule]:
    def deco(fn: Rule) -> Rule:
        for op in ops:
            _RULES.setdefault(op, []).append((before, fn))
        return fn

    return deco


def canonicalise(node: ir.Node, version: int, graph: ir.Graph) -> list[ir.Node]:
    """The node(s) that express `node` (from opset `version`) in canonical form."""
    if node.domain != "":
        return [node]
    if node.op_type in _AXES_OPS:
        _no_negative_axes(node, version)
    nodes = [node]
    for before, fn in _RULES.get(node.op_type, []):
        if version < before:
            out: list[ir.Node] = []
            for n in nodes:
                out.extend(fn(n, graph) if n.op_type == node.op_type else [n])
            nodes = out
    return nodes


def const(name: str, data: np.ndarray | list | int | float, dtype: type | np.dtype = np.int64) -> ir.Value:
    arr = np.asarray(data, dtype=dtype)
    from onnx.helper import np_dtype_to_tensor_dtype

    return ir.Value(name=name, elem=np_dtype_to_tensor_dtype(arr.dtype), shape=tuple(arr.shape), const=arr)


def _set_input(node: ir.Node, index: int, value: ir.Value | None) -> None:
    while len(node.inputs) <= index:
        node.inputs.append(None)
    node.inputs[index] = value


def _attr_to_input(node: ir.Node, attr: str, index: int, dtype: type = np.int64) -> None:
    if attr in node.attrs:
        value = node.attrs.pop(attr)
        _set_input(node, index, const(f"{node.name or node.op_type}_{attr}", value, dtype))


_AXES_OPS = frozenset({
    "Squeeze", "Unsqueeze", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
    "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare",
})


def _no_negative_axes(node: ir.Node, version: int) -> None:
    """Negative `axes` only mean "from the back" since opset 11; before, shape inference and
    runtimes disagree on them (ONNX infers one shape, onnxruntime computes another)."""
    axes = node.attrs.get("axes")
    if version < 11 and axes is not None and any(int(a) < 0 for a in axes):
        raise InvalidModel(
            f"node {node.name!r} ({node.op_type}): negative axes {list(axes)} are not defined before opset 11"
        )


@rule("ReduceSum", before=13)
@rule(
    "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
    "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", before=18,
)
def _reduce_axes(node: ir.Node, graph: ir.Graph) -> list[ir.Node]:
    _attr_to_input(node, "axes", 1)
    return [node]


@rule("Squeeze", "Unsqueeze", before=13)
def _squeeze_axes(node: ir.Node, graph: ir.Graph) -> list[ir.Node]:
    _attr_to_input(node, "axes", 1)
    return [node]


@rule("Split", before=13)
def _split_sizes(node: ir.Node, graph: ir.Graph) -> list[ir.Node]:
    _attr_to_input(node, "split", 1)
    return [node]


@rule("Clip", before=11)
def _clip_bounds(node: ir.Node, graph: ir.Graph) -> list[ir.Node]:
    elem = node.inputs[0].elem if node.inputs[0] is not None else ir.FLOAT
    from onnx.helper import tensor_dtype_to_np_dtype

    dt = tensor_dtype_to_np_dtype(elem or ir.FLOAT)
    if "min" in node.attrs:
        _set_input(node, 1, const(f"{node.name}_min", node.attrs.pop("min"), dt))
    if "max" in node.attrs:
        _set_input(node, 2, const(f"{node.name}_max", node.attrs.pop("max"), dt))
    return [node]


@rule("Pad", before=11)
def _pad_inputs(node: ir.Node, graph: ir.Graph) -> list[ir.Node]:
    from onnx.helper import tensor_dtype_to_np_dtype

    _attr_to_input(node, "pads", 1)
    if "value" in node.attrs:
        elem = node.inputs[0].elem if node.inputs[0] is not None else ir.FLOAT
        value = node.attrs.pop("value")
        _set_input(node, 2, const(f"{node.name}_value", value, tensor_dtype_to_np_dtype(elem or ir.FLOAT)))
    return [node]


@rule("Slice", before=10)
def _slice_inputs(node: ir.Node, graph: ir.Graph) -> list[ir.Node]:
    _attr_to_input(node, "starts", 1)
    _attr_to_input(node, "ends", 2)
    _attr_to_input(node, "axes", 3)
    return [node]


@rule("TopK", before=10)
def _topk_k(node: ir.Node, graph: ir.Graph) -> list[ir.Node]:
    if "k" in node.attrs:
        _set_input(node, 1, const(f"{node.name}_k", [node.attrs.pop("k")]))
    return [node]


@rule("Dropout", before=12)
def _dropout_ratio(node: ir.Node, graph: ir.Graph) -> list[ir.Node]:
    node.attrs.pop("is_test", None)
    if "ratio" in node.attrs:
        _set_input(node, 1, const(f"{node.name}_ratio", node.attrs.pop("ratio"), np.float32))
    return [node]


@rule("Scatter", before=99)
def _scatter(node: ir.Node, graph: ir.Graph) -> list[ir.Node]:
    node.op_type = "ScatterElements"
    return [node]


@rule("Upsample", before=99)
def _upsample(node: ir.Node, graph: ir.Graph) -> list[ir.Node]:
    """Upsample (removed in opset 10) is Resize with asymmetric coordinates."""
    scales = node.attrs.pop("scales", None)
    if scales is not None:
        scales_v: ir.Value | None = const(f"{node.name}_scales", scales, np.float32)
    else:
        scales_v = node.input(1)
    mode = node.attrs.pop("mode", "nearest")
    node.op_type = "Resize"
    node.inputs = [node.inputs[0], None, scales_v]
    node.attrs = {"mode": mode, "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    return [node]


@rule("Resize", before=11)
def _resize10(node: ir.Node, graph: ir.Graph) -> list[ir.Node]:
    node.inputs = [node.inputs[0], None, node.input(1)]
    node.attrs.setdefault("coordinate_transformation_mode", "asymmetric")
    node.attrs.setdefault("nearest_mode", "floor")
    return [node]


@rule("Softmax", "LogSoftmax", "Hardmax", before=13)
def _softmax_2d(node: ir.Node, graph: ir.Graph) -> list[ir.Node]:
    """Before opset 13 these flatten the input to 2-D at `axis`; express that with Flatten/Reshape."""
    x, y = node.inputs[0], node.outputs[0]
    axis = node.attrs.get("axis", 1)
    rank = x.rank if x is not None else None
    if rank is not None and (axis % rank if rank else 0) == rank - 1:
        node.attrs["axis"] = -1  # the last axis: identical to the new form
        return [node]
    base = node.name or node.op_type
    flat = ir.Value(f"{base}_flat", elem=x.elem)
    soft = ir.Value(f"{base}_2d", elem=x.elem)
    shape = ir.Value(f"{base}_shape", elem=ir.INT64, shape=(rank,) if rank is not None else None)
    n1 = ir.Node("Flatten", [x], [flat], {"axis": axis}, name=f"{base}_flatten")
    n2 = ir.Node(node.op_type, [flat], [soft], {"axis": 1}, name=base)
    n3 = ir.Node("Shape", [x], [shape], {}, name=f"{base}_shape")
    n4 = ir.Node("Reshape", [soft, shape], [y], {}, name=f"{base}_reshape")
    if x.static_shape is not None:
        s = x.static_shape
        a = axis % len(s) if s else 0
        flat.shape = (int(np.prod(s[:a], dtype=np.int64)), int(np.prod(s[a:], dtype=np.int64)))
        soft.shape = flat.shape
    for n in (n1, n2, n3, n4):
        for v in n.outputs:
            v.producer = n
    return [n1, n2, n3, n4]


@rule("BatchNormalization", before=9)
def _bn_spatial(node: ir.Node, graph: ir.Graph) -> list[ir.Node]:
    if node.attrs.pop("spatial", 1) != 1:
        node.attrs["_non_spatial"] = 1
    return [node]


@rule("DFT", before=20)
def _dft_axis(node: ir.Node, graph: ir.Graph) -> list[ir.Node]:
    node.attrs.setdefault("axis", 1)  # DFT-17's default; DFT-20 takes the axis as input 2
    _attr_to_input(node, "axis", 2)
    return [node]
