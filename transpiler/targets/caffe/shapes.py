"""A pass: static shapes for values that shape inference left open before constant folding.

Exporters compute slice bounds and reshape targets from `Shape` (shufflenet's channel split):
ONNX shape inference, run on the unfolded graph, cannot size those outputs, but once the folding
pass has turned the bounds into constants it can. Caffe needs every blob's shape, so each node
with an open output shape and static inputs is inferred again on its own (a one-node model).
"""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper, numpy_helper

from ... import ir


def infer_static_shapes(graph: ir.Graph) -> int:
    changed = 0
    for node in graph.nodes:
        outs = [v for v in node.outputs if v is not None]
        if all(v.static_shape is not None for v in outs) or any(True for _ in node.subgraphs()):
            continue
        ins = [v for v in node.inputs if v is not None]
        if any(v.kind != "tensor" or (v.const is None and v.static_shape is None) for v in ins):
            continue
        shapes = _infer(node, graph.opset)
        for v in outs:
            shape = shapes.get(v.name)
            if shape is not None and v.static_shape is None:
                v.shape = shape
                changed += 1
    return changed


def _infer(node: ir.Node, opset: dict[str, int]) -> dict[str, tuple[int, ...]]:
    names = [f"i{k}" if v is not None else "" for k, v in enumerate(node.inputs)]
    out_names = [f"o{k}" if v is not None else "" for k, v in enumerate(node.outputs)]
    inputs, inits = [], []
    for name, v in zip(names, node.inputs):
        if v is None:
            continue
        if v.const is not None:
            inits.append(numpy_helper.from_array(v.const, name))
        else:
            inputs.append(helper.make_tensor_value_info(name, v.elem, list(v.static_shape or ())))
    try:
        attrs = {k: a for k, a in node.attrs.items()}
        proto = helper.make_node(node.op_type, names, out_names, domain=node.domain or None, **attrs)
        g = helper.make_graph([proto], "one", inputs,
                              [helper.make_tensor_value_info(n, TensorProto.UNDEFINED, None) for n in out_names if n],
                              initializer=inits)
        imports = [helper.make_opsetid(d, v) for d, v in sorted(opset.items())]
        model = helper.make_model(g, opset_imports=imports)
        inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:  # nothing learned; the lowering that needs the shape will say so
        return {}
    found: dict[str, tuple[int, ...]] = {}
    for vi in inferred.graph.output:
        dims = vi.type.tensor_type.shape.dim
        if vi.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
            idx = int(vi.name[1:])
            v = node.outputs[idx]
            if v is not None:
                found[v.name] = tuple(d.dim_value for d in dims)
    return found
