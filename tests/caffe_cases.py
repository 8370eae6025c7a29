"""Small ONNX models for the Caffe target's per-layer tests, and the convert-run-compare helper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from transpiler import convert
from transpiler.targets.caffe import TARGET
from transpiler.verify import run_onnxruntime

RTOL, ATOL = 1e-3, 1e-4
OPSET = 18


def model(nodes: list[onnx.NodeProto], inputs: dict[str, list[int]], outputs: dict[str, list[int] | None],
          consts: dict[str, np.ndarray] | None = None, opset: int = OPSET, name: str = "g") -> onnx.ModelProto:
    """A float32 model: `inputs`/`outputs` name -> shape, `consts` become initializers."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs.items()],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in (consts or {}).items()],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 10
    m = onnx.shape_inference.infer_shapes(m, strict_mode=True)  # fills the output shapes left open
    onnx.checker.check_model(m)
    return m


def one(op: str, x_shape: list[int], consts: dict[str, np.ndarray] | None = None, out_shape: list[int] | None = None,
        extra_inputs: list[str] | None = None, opset: int = OPSET, **attrs: Any) -> onnx.ModelProto:
    """A model of one node reading input `x` (then `extra_inputs`, constants by name)."""
    ins = ["x", *(extra_inputs or [])]
    node = helper.make_node(op, ins, ["y"], name=f"/{op.lower()}/{op}", **attrs)
    return model([node], {"x": x_shape}, {"y": out_shape}, consts, opset=opset)


def weights(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def inputs_for(m: onnx.ModelProto, seed: int = 1234) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    inits = {t.name for t in m.graph.initializer}
    out = []
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        shape = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        out.append(rng.standard_normal(shape).astype(np.float32))
    return out


def convert_and_compare(m: onnx.ModelProto, out_dir: Path) -> tuple[Path, list[np.ndarray]]:
    """Convert to Caffe, run through OpenCV, assert it matches onnxruntime; returns the prototxt
    path and the outputs."""
    out = out_dir / "net.prototxt"
    convert(m, to="caffe", out=out)
    xs = inputs_for(m)
    ref = run_onnxruntime(m, xs)
    got = TARGET.run(out, xs)
    assert len(got) == len(ref)
    for k, (r, g) in enumerate(zip(ref, got)):
        assert g.shape == r.shape, f"output {k}: shape {g.shape} != {r.shape}"
        np.testing.assert_allclose(g, r, rtol=RTOL, atol=ATOL, err_msg=f"output {k}")
    return out, got


def layer_types(prototxt: Path) -> list[str]:
    from google.protobuf import text_format

    from transpiler.targets.caffe.proto import message_class

    net = text_format.Parse(prototxt.read_text(encoding="utf-8"), message_class("NetParameter")())
    return [layer.type for layer in net.layer]
