"""Generated stress graphs: N nodes of transformer-like MLP blocks with small weights, so the
cost measured is the graph walk, naming and code size, not the weight bytes.

One block (10 nodes), the way an exporter names it:
    MatMul -> Add -> Relu -> MatMul -> Add -> Add(residual) -> LayerNormalization
    -> Transpose -> Transpose -> Mul(scalar)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN = 16
SEQ = 8
BLOCK_NODES = 10


def make_stress(n_nodes: int, path: Path, seed: int = 0) -> Path:
    """Write an opset-17 model of exactly `n_nodes` nodes to `path` (if not there yet)."""
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []

    def weight(name: str, shape: tuple[int, ...], scale: float = 0.1) -> str:
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    x = "input"
    blocks = n_nodes // BLOCK_NODES
    for i in range(blocks):
        s = f"/blocks/blocks.{i}"
        p = f"blocks.{i}"

        def node(op: str, inputs: list[str], sub: str, **attrs) -> str:
            out = f"{s}/{sub}/{op}_output_0"
            nodes.append(helper.make_node(op, inputs, [out], name=f"{s}/{sub}/{op}", **attrs))
            return out

        h = node("MatMul", [x, weight(f"{p}.fc1.weight", (HIDDEN, HIDDEN))], "fc1")
        h = node("Add", [h, weight(f"{p}.fc1.bias", (HIDDEN,))], "fc1")
        h = node("Relu", [h], "act")
        h = node("MatMul", [h, weight(f"{p}.fc2.weight", (HIDDEN, HIDDEN))], "fc2")
        h = node("Add", [h, weight(f"{p}.fc2.bias", (HIDDEN,))], "fc2")
        h = node("Add", [h, x], "residual")
        h = node(
            "LayerNormalization",
            [h, weight(f"{p}.norm.weight", (HIDDEN,), 1.0), weight(f"{p}.norm.bias", (HIDDEN,))],
            "norm", axis=-1, epsilon=1e-5,
        )
        h = node("Transpose", [h], "swap", perm=[0, 2, 1])
        h = node("Transpose", [h], "unswap", perm=[0, 2, 1])
        x = node("Mul", [h, weight(f"{p}.scale", (), 1.0)], "scale")
    for j in range(n_nodes - blocks * BLOCK_NODES):
        out = f"/tail/Relu_{j}_output_0"
        nodes.append(helper.make_node("Relu", [x], [out], name=f"/tail/Relu_{j}"))
        x = out
    graph = helper.make_graph(
        nodes,
        f"stress{n_nodes}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", SEQ, HIDDEN])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["batch", SEQ, HIDDEN])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="transpiler-bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(path)
    return path
