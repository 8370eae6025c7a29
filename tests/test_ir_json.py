"""`--to ir`: the canonical IR as JSON and back. Converting from the .ir.json gives the same
target output as converting from the .onnx (numerically checked against onnxruntime too); every
ONNX node test case survives write -> read -> write unchanged; bad files are one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from transpiler import convert
from transpiler.atomic import write_all
from transpiler.errors import InvalidModel, TranspileError
from transpiler.frontends.ir_json import read_ir
from transpiler.frontends.onnx import read_model, to_ir
from transpiler.targets import get
from transpiler.targets.base import BuildOptions
from transpiler.targets.pytorch.runner import run_generated
from transpiler.verify import run_onnxruntime, seeded_inputs

from .models import dynamic_batch_cnn

ROOT = Path(__file__).resolve().parents[1]


def if_model() -> onnx.ModelProto:
    """A subgraph reading an outer value, a float16 weight, an int constant: IR features JSON lacks."""
    then_g = helper.make_graph(
        [helper.make_node("Add", ["x", "w16c"], ["t"], name="then_add")], "then", [],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, [2, 3])],
    )
    else_g = helper.make_graph(
        [helper.make_node("Mul", ["x", "x"], ["e"], name="else_mul")], "else", [],
        [helper.make_tensor_value_info("e", TensorProto.FLOAT, [2, 3])],
    )
    inits = [numpy_helper.from_array(np.linspace(-1, 1, 6, dtype=np.float16).reshape(2, 3), "w16"),
             numpy_helper.from_array(np.array([3, 2], dtype=np.int64), "shape")]
    nodes = [
        helper.make_node("Cast", ["w16"], ["w16c"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["x"], ["s"], name="sum", keepdims=0),
        helper.make_node("Greater", ["s", "zero"], ["c"], name="cond"),
        helper.make_node("If", ["c"], ["y0"], name="branch", then_branch=then_g, else_branch=else_g),
        helper.make_node("Reshape", ["y0", "shape"], ["y"], name="reshape"),
    ]
    inits.append(numpy_helper.from_array(np.float32(0), "zero"))
    graph = helper.make_graph(nodes, "if_model", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 2])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


MODELS = {
    "tiny_attention": lambda: onnx.load(str(ROOT / "examples" / "tiny_attention.onnx")),
    "small_cnn": lambda: onnx.load(str(ROOT / "examples" / "small_cnn.onnx")),
    "dynamic_batch_cnn": dynamic_batch_cnn,
    "if_model": if_model,
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_round_trip_through_ir_json(name: str, tmp_path: Path) -> None:
    proto = MODELS[name]()
    src = tmp_path / f"{name}.onnx"
    onnx.save(proto, str(src))
    direct = tmp_path / "direct" / "net.py"
    convert(src, to="pytorch", out=direct)
    ir_file = tmp_path / "ir" / f"{name}.ir.json"
    paths = convert(src, to="ir", out=ir_file).paths
    assert paths == [ir_file, ir_file.with_suffix(".safetensors")]
    via_ir = tmp_path / "via_ir" / "net.py"
    convert(ir_file, to="pytorch", out=via_ir)
    # the same IR in, the same code and weights out
    assert via_ir.read_text() == direct.read_text()
    assert via_ir.with_suffix(".safetensors").read_bytes() == direct.with_suffix(".safetensors").read_bytes()
    for batch in (1, 3):
        inputs = seeded_inputs(proto, seed=7, dim_value=batch)
        want = run_onnxruntime(proto, inputs)
        got = run_generated(via_ir, inputs)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-3, atol=1e-4)


def test_ir_json_is_readable_and_deterministic(tmp_path: Path) -> None:
    src = ROOT / "examples" / "tiny_attention.onnx"
    a, b = tmp_path / "a" / "m.ir.json", tmp_path / "b" / "m.ir.json"
    convert(src, to="ir", out=a)
    convert(src, to="ir", out=b)
    assert a.read_bytes() == b.read_bytes()
    assert a.with_suffix(".safetensors").read_bytes() == b.with_suffix(".safetensors").read_bytes()
    doc = json.loads(a.read_text())
    assert doc["format"] == "transpiler.ir" and doc["weights"] == "m.ir.safetensors"
    ops = [n["op"] for n in doc["graph"]["nodes"]]
    assert "LayerNormalization" in ops and "Softmax" in ops
    # one node per line: a diff of two IR files reads node by node
    softmax = [ln for ln in a.read_text().splitlines() if '"op": "Softmax"' in ln]
    assert len(softmax) == 1 and '"inputs": [' in softmax[0] and '"attrs": {"axis": -1}' in softmax[0]


def test_cli_round_trip(tmp_path: Path) -> None:
    src = ROOT / "examples" / "small_cnn.onnx"
    run = [sys.executable, "-m", "transpiler"]
    ir_file = tmp_path / "model.ir.json"
    p1 = subprocess.run([*run, str(src), "--to", "ir", "-o", str(ir_file)], capture_output=True, text=True, timeout=300)
    assert p1.returncode == 0, p1.stderr
    p2 = subprocess.run([*run, str(ir_file), "--to", "pytorch", "-o", str(tmp_path / "net.py")],
                        capture_output=True, text=True, timeout=300)
    assert p2.returncode == 0, p2.stderr
    p3 = subprocess.run([*run, str(ir_file), "--to", "pytorch", "-o", str(tmp_path / "x.py"), "--check"],
                        capture_output=True, text=True, timeout=300)
    assert p3.returncode == 2 and "needs the ONNX model" in p3.stderr


def test_every_onnx_node_case_survives_write_and_read(tmp_path: Path) -> None:
    """Attributes of every kind (graphs, tensors, strings, type protos, sparse), sequences,
    optionals, exotic dtypes: write -> read -> write gives the same JSON and weights."""
    from .onnx_cases import all_cases

    target = get("ir")
    failures = []
    for i, (name, case) in enumerate(sorted(all_cases().items())):
        proto, info = read_model(case.model)
        graph = to_ir(proto, keep=lambda d, o: True)
        first = tmp_path / f"c{i}" / "a.ir.json"
        write_all(target.build(graph, info, first, BuildOptions()))
        again, _ = read_ir(first)
        second = tmp_path / f"c{i}" / "b.ir.json"
        write_all(target.build(again, info, second, BuildOptions()))
        same_json = first.read_text().replace("a.ir.safetensors", "b.ir.safetensors") == second.read_text()
        same_weights = first.with_suffix(".safetensors").read_bytes() == second.with_suffix(".safetensors").read_bytes()
        if not (same_json and same_weights):
            failures.append(name)
    assert not failures, f"{len(failures)} cases change on a round trip: {failures[:10]}"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: "not json", "not a JSON file"),
        (lambda d: {**d, "format": "other"}, "not a transpiler IR file"),
        (lambda d: {**d, "version": 99}, "IR version 99"),
        (lambda d: {**d, "weights": "../elsewhere.safetensors"}, "must be a file name beside it"),
        (lambda d: {**d, "graph": {**d["graph"], "nodes": [{"op": "Relu"}]}}, "malformed IR file"),
        (lambda d: {**d, "graph": {**d["graph"], "outputs": ["no_such_value"]}}, "malformed IR file"),
    ],
)
def test_bad_ir_files(tmp_path: Path, mutate, message: str) -> None:
    ir_file = tmp_path / "m.ir.json"
    convert(ROOT / "examples" / "small_cnn.onnx", to="ir", out=ir_file)
    doc = mutate(json.loads(ir_file.read_text()))
    ir_file.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    with pytest.raises(InvalidModel) as e:
        convert(ir_file, to="pytorch", out=tmp_path / "out" / "net.py")
    assert message in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "out").exists()


def test_truncated_weights(tmp_path: Path) -> None:
    ir_file = tmp_path / "m.ir.json"
    convert(ROOT / "examples" / "small_cnn.onnx", to="ir", out=ir_file)
    w = ir_file.with_suffix(".safetensors")
    w.write_bytes(w.read_bytes()[:100])
    with pytest.raises(TranspileError):
        convert(ir_file, to="pytorch", out=tmp_path / "out" / "net.py")
