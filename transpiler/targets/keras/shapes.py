"""Shape tensors known at conversion time, symbolically: `Shape(x)` of a tensor whose dims are
ints or symbolic names, followed by Gather / Slice / Unsqueeze / Squeeze / Concat / Cast. A
Reshape to such a computed shape then needs no run-time shape arithmetic (the common
`x.view(x.size(0), -1)` export), and its symbolic batch stays symbolic (-1 in the code)."""

from __future__ import annotations

import numpy as np

from ... import ir

Dims = list[ir.Dim]


def _const_list(v: ir.Value | None, known: dict[int, Dims]) -> Dims | None:
    if v is None:
        return None
    if v.const is not None and v.const.dtype.kind in "iu":
        return [int(d) for d in v.const.reshape(-1)]
    return known.get(id(v))


def shape_values(graph: ir.Graph) -> dict[int, Dims]:
    """id(value) -> its elements (ints or symbolic dim names) for 1-D int shape tensors.

    First completes the static shapes ONNX's whole-model inference left open (see
    `complete_static_shapes`): the Keras model is built with static shapes."""
    complete_static_shapes(graph)
    known: dict[int, Dims] = {}
    for node in graph.nodes:
        if node.domain != "" or not node.outputs or node.outputs[0] is None:
            continue
        out = node.outputs[0]
        op = node.op_type
        res: Dims | None = None
        if op == "Shape":
            x = node.input(0)
            if x is not None and x.shape is not None and all(d is not None for d in x.shape):
                start, end = node.attr("start", 0), node.attr("end", None)
                res = list(x.shape)[slice(start, end)]
        elif op in ("Cast", "Identity"):
            res = _const_list(node.input(0), known)
        elif op in ("Unsqueeze", "Squeeze"):
            src = _const_list(node.input(0), known)
            if src is not None and (node.input(0).rank in (0, 1) if node.input(0) is not None else False):
                res = src
        elif op == "Gather":
            src = known.get(id(node.input(0))) if node.input(0) is not None else None
            idx = node.input(1)
            if src is not None and idx is not None and idx.const is not None and idx.const.ndim <= 1:
                res = [src[int(i)] for i in idx.const.reshape(-1)]
        elif op == "Slice":
            src = known.get(id(node.input(0))) if node.input(0) is not None else None
            starts, ends = _const_list(node.input(1), {}), _const_list(node.input(2), {})
            steps = _const_list(node.input(4), {}) if node.input(4) is not None else [1]
            if src is not None and starts and ends and steps and all(isinstance(d, int) for d in starts + ends + steps):
                res = list(src)[slice(starts[0], ends[0], steps[0])]  # type: ignore[misc]
        elif op == "Concat":
            parts = [_const_list(v, known) for v in node.inputs]
            if all(p is not None for p in parts):
                res = [d for p in parts for d in p]  # type: ignore[union-attr]
        if res is not None:
            known[id(out)] = res
    return known


def resolve_reshape(in_shape: tuple[ir.Dim, ...], target: Dims, allowzero: bool) -> tuple[int, ...] | None:
    """A Keras reshape target (ints, at most one -1) for ONNX Reshape(x, target), or None."""
    dims: list[ir.Dim] = []
    for i, d in enumerate(target):
        if d == 0 and not allowzero:
            d = in_shape[i] if i < len(in_shape) else None
        dims.append(d)
    if any(d is None for d in dims):
        return None
    unknown = [i for i, d in enumerate(dims) if not isinstance(d, int) or d == -1]
    if len(unknown) == 0:
        return tuple(int(d) for d in dims)  # type: ignore[arg-type]
    if len(unknown) == 1:
        return tuple(-1 if i in unknown else int(d) for i, d in enumerate(dims))  # type: ignore[arg-type]
    # a symbolic dim of the input reused as is, plus one -1: the -1 is the product of the rest
    syms = [d for d in dims if isinstance(d, str)]
    if len(unknown) == 2 and len(syms) == 1 and -1 in dims and list(in_shape).count(syms[0]) == 1:
        rest = [d for d in in_shape if d != syms[0]]
        if all(isinstance(d, int) for d in rest):
            total = int(np.prod(rest))
            known = int(np.prod([d for d in dims if isinstance(d, int) and d != -1]))
            if known and total % known == 0:
                return tuple(-1 if d == syms[0] else (total // known if d == -1 else int(d)) for d in dims)  # type: ignore[misc]
    return None


# constants up to this many elements go to per-node inference as values (shape-giving inputs
# such as Reshape's target are small); larger ones only as typed inputs
_INFER_CONST_MAX = 4096


def complete_static_shapes(graph: ir.Graph) -> None:
    """Fill in output shapes that are unknown (or symbolic) although every input's shape is
    static, by ONNX's shape inference on the node alone. Whole-model inference can miss them:
    inside an expanded function a parameter is computed by nodes that constant folding has
    only now turned into a constant (e.g. RotaryEmbedding's split sizes)."""
    for node in graph.nodes:
        if node.domain != "" or any(True for _ in node.subgraphs()):
            continue
        outs = [v for v in node.outputs if v is not None]
        if not outs or all(v.static_shape is not None for v in outs) or any(v.kind != "tensor" for v in outs):
            continue
        ins = [v for v in node.inputs if v is not None]
        if any(v.kind != "tensor" or (v.static_shape is None and v.const is None) for v in ins):
            continue
        inferred = _infer_node(node)
        if inferred is None:
            continue
        for v, shape in zip(node.outputs, inferred):
            if v is None or shape is None:
                continue
            if v.shape is None:
                v.shape = shape
            elif len(v.shape) == len(shape):
                v.shape = tuple(d if isinstance(d, int) else s for d, s in zip(v.shape, shape))


def _infer_node(node: ir.Node) -> list[tuple[ir.Dim, ...] | None] | None:
    """The output shapes ONNX's shape inference gives `node` alone (dims it cannot tell: names)."""
    import onnx
    from onnx import helper, numpy_helper

    try:
        names = [f"i{k}" if v is not None else "" for k, v in enumerate(node.inputs)]
        out_names = [f"o{k}" if v is not None else "" for k, v in enumerate(node.outputs)]
        attrs = {}
        for key, val in node.attrs.items():
            if key.startswith("_"):
                return None
            attrs[key] = numpy_helper.from_array(val) if isinstance(val, np.ndarray) else val
        proto = helper.make_node(node.op_type, names, out_names, **attrs)
        inputs, inits = [], []
        for name, v in zip(names, node.inputs):
            if v is None:
                continue
            if v.const is not None and v.const.size <= _INFER_CONST_MAX and v.const.dtype != object:
                inits.append(numpy_helper.from_array(np.asarray(v.const), name))
            else:
                shape = v.static_shape if v.static_shape is not None else tuple(v.const.shape)  # type: ignore[union-attr]
                inputs.append(helper.make_tensor_value_info(name, v.elem, shape))
        outputs = [helper.make_tensor_value_info(n, v.elem, None) for n, v in zip(out_names, node.outputs) if v is not None]
        graph = helper.make_graph([proto], "node", inputs, outputs, inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", onnx.defs.onnx_opset_version())])
        model = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception:  # inference that fails leaves the shapes as they were
        return None
    by_name = {}
    for vi in model.graph.output:
        t = vi.type.tensor_type
        if t.HasField("shape"):
            by_name[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim)
    return [by_name.get(n) if n else None for n in out_names]
