"""Small ONNX models built in the tests (no files needed)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def dynamic_batch_cnn(seed: int = 0) -> onnx.ModelProto:
    """Conv -> BN -> Relu -> reshape by a computed shape (Shape/Gather/Concat) -> Gemm; batch is 'N'."""
    rng = np.random.default_rng(seed)
    inits = [
        numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32) * 0.3, "conv.weight"),
        numpy_helper.from_array(rng.standard_normal(4).astype(np.float32) * 0.1, "conv.bias"),
        numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), "bn.weight"),
        numpy_helper.from_array(rng.standard_normal(4).astype(np.float32) * 0.1, "bn.bias"),
        numpy_helper.from_array(rng.standard_normal(4).astype(np.float32) * 0.1, "bn.running_mean"),
        numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), "bn.running_var"),
        numpy_helper.from_array(rng.standard_normal((5, 4 * 8 * 8)).astype(np.float32) * 0.05, "fc.weight"),
        numpy_helper.from_array(rng.standard_normal(5).astype(np.float32) * 0.1, "fc.bias"),
        numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "minus_one"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "axes0"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], name="/conv/Conv", pads=[1, 1, 1, 1]),
        helper.make_node(
            "BatchNormalization",
            ["c", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"],
            ["b"],
            name="/bn/BatchNormalization",
            momentum=0.99,
            epsilon=1e-3,
        ),
        helper.make_node("Relu", ["b"], ["r"], name="/Relu"),
        helper.make_node("Shape", ["r"], ["s"], name="/Shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="/Gather", axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"], name="/Unsqueeze"),
        helper.make_node("Concat", ["n1", "minus_one"], ["shape"], name="/Concat", axis=0),
        helper.make_node("Reshape", ["r", "shape"], ["flat"], name="/Reshape"),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["y"], name="/fc/Gemm", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "dynamic_cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    return model


def single_op(op: str, domain: str = "", n_in: int = 1, **attrs) -> onnx.ModelProto:
    """A one-node float model (for CLI and refusal tests)."""
    inputs = [helper.make_tensor_value_info(f"x{i}", TensorProto.FLOAT, [2, 3]) for i in range(n_in)]
    node = helper.make_node(op, [f"x{i}" for i in range(n_in)], ["y"], domain=domain, name=f"my_{op.lower()}", **attrs)
    graph = helper.make_graph([node], "single", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return helper.make_model(graph, opset_imports=opsets, ir_version=8)
