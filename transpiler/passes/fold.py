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
# Ops whose reference implementation disagrees with onnxruntime on inputs the differential fuzzer
# found (MaxPool with ceil_mode and pads, GlobalMaxPool of rank 3, ...) and their windowed kin: a
# constant input to them is rare, and the target's lowering computes them at run time instead.
UNRELIABLE = frozenset(
    {
        "MaxPool", "AveragePool", "LpPool", "GlobalMaxPool", "GlobalAveragePool", "GlobalLpPool", "MaxRoiPool",
        "MaxUnpool", "RoiAlign", "Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "DeformConv", "Resize",
        "Upsample", "GridSample", "Col2Im", "AffineGrid", "CenterCropPad", "LRN", "RNN", "GRU", "LSTM",
        "NonMaxSuppression", "DFT", "STFT",
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
    if node.domain != "" or node.op_type in NOT_FOLDABLE | UNRELIABLE or any(True for _ in node.subgraphs()):
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
    if any(s is not None and _numel(s) > budget for s in expected):
        return None
    if node.op_type in AMPLIFIERS and any(s is None for s in expected):
        # the result's size is not known and may be far larger than the inputs: never compute it
        # blindly (a Range to 10^12 would exhaust memory); only when the size is easy to bound
        if _bounded_size(node) > budget:
            return None
    try:
        results = evaluate(node, [None if v is None else v.const for v in node.inputs])
    except Exception:
        return None  # leave it to the target; a lowering will refuse it with a reason if needed
    if any(r is None or not isinstance(r, np.ndarray) or r.size > budget or r.dtype == object for r in results):
        return None
    # The reference implementation has bugs (GlobalMaxPool of rank 3 drops a dim, ...): a result
    # that contradicts the shape ONNX's shape inference gave is not trusted, the node stays.
    for out, r, want in zip([v for v in node.outputs if v is not None], [r for r in results if r is not None], expected):
        if want is not None and tuple(r.shape) != tuple(want):
            return None
        if out.elem and _elem_of(r) not in (0, out.elem):
            return None
    return results


def _elem_of(arr: np.ndarray) -> int:
    from onnx.helper import np_dtype_to_tensor_dtype

    try:
        return int(np_dtype_to_tensor_dtype(arr.dtype))
    except Exception:
        return 0


# Ops whose output size is set by input *values* (a scale, a pad width, a depth, a window length):
# without a known output shape there is no cheap bound, so they are not folded then.
_VALUE_SIZED = frozenset(
    {"Resize", "Upsample", "Pad", "OneHot", "Col2Im", "CenterCropPad", "MelWeightMatrix", "HannWindow",
     "HammingWindow", "BlackmanWindow", "DFT", "STFT", "RandomNormal", "RandomUniform", "EyeLike"}
)
# Ops whose output can be much larger than their inputs.
AMPLIFIERS = _VALUE_SIZED | frozenset(
    {"Range", "ConstantOfShape", "Expand", "Tile", "MatMul", "Gemm", "Einsum", "ConvTranspose", "Gather",
     "GatherND", "GatherElements", "Unique", "NonZero", "Compress", "Concat"}
)
_UNBOUNDED = 1 << 62


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= max(int(d), 0)  # Python ints: no overflow on hostile dims
    return n


def _bounded_size(node: ir.Node) -> int:
    """An upper bound on the largest output of a foldable amplifying op, or _UNBOUNDED."""
    consts = [None if v is None else v.const for v in node.inputs]
    try:
        if node.op_type == "Range":
            start, limit, delta = (float(np.asarray(c).reshape(-1)[0]) for c in consts[:3])
            if not np.isfinite([start, limit, delta]).all() or delta == 0:
                return _UNBOUNDED
            return max(int(np.ceil((limit - start) / delta)), 0)
        if node.op_type == "ConstantOfShape":
            return _numel(tuple(int(d) for d in consts[0].reshape(-1)))
        if node.op_type == "Expand":
            shape = [int(d) for d in consts[1].reshape(-1)]
            x = consts[0].shape
            rank = max(len(shape), len(x))
            a, b = [1] * (rank - len(x)) + list(x), [1] * (rank - len(shape)) + shape
            return _numel(tuple(max(p, q) for p, q in zip(a, b)))
        if node.op_type == "Tile":
            return _numel(consts[0].shape) * _numel(tuple(int(r) for r in consts[1].reshape(-1)))
    except (TypeError, ValueError, IndexError, AttributeError, OverflowError):
        return _UNBOUNDED
    if node.op_type in _VALUE_SIZED:
        return _UNBOUNDED
    # the others grow at most polynomially in their inputs' sizes: a product of them bounds them
    total = 1
    for c in consts:
        if c is not None:
            total *= max(c.size, 1)
    return total


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


def _slice(data: np.ndarray, starts, ends, axes=None, steps=None) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Slice exactly as the spec clamps it (the reference implementation mishandles e.g. an end
    of INT64_MIN with a negative step). Python ints: no overflow on extreme bounds."""
    rank = data.ndim
    starts, ends = [int(v) for v in starts], [int(v) for v in ends]
    axes = list(range(len(starts))) if axes is None else [int(a) + rank if int(a) < 0 else int(a) for a in axes]
    steps = [1] * len(starts) if steps is None else [int(t) for t in steps]
    index = [slice(None)] * rank
    for start, end, axis, step in zip(starts, ends, axes, steps):
        if step == 0:
            raise ValueError("Slice step 0")
        dim = data.shape[axis]
        if dim == 0:
            index[axis] = slice(0, 0)
            continue
        start = start + dim if start < 0 else start
        end = end + dim if end < 0 else end
        if step > 0:
            start, end = min(max(start, 0), dim), min(max(end, 0), dim)
        else:
            start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
        index[axis] = slice(start, None if end < 0 else end, step)
    return data[tuple(index)]


def evaluate(node: ir.Node, inputs: list[np.ndarray | None]) -> list[np.ndarray]:
    """Run one IR node with ONNX's reference implementation."""
    if node.op_type == "Slice" and node.domain == "" and len(inputs) >= 3 and not node.attrs:
        return [np.ascontiguousarray(_slice(*[a if a is None else np.asarray(a) for a in inputs[:5]]))]
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
