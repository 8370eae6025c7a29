"""Per-node overrides (--override fix.json): attributes, input constants, lower_as; clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from transpiler import convert, plugins
from transpiler.errors import TranspileError
from transpiler.targets.pytorch.runner import run_generated
from transpiler.verify import run_onnxruntime


def model(alpha: float = 0.1, shape: tuple[int, ...] = (2, 6)) -> onnx.ModelProto:
    """x -> LeakyRelu -> Reshape(shape) -> Add(bias); a second Reshape shares the shape constant."""
    inits = [
        numpy_helper.from_array(np.array(shape, dtype=np.int64), "shape"),
        numpy_helper.from_array(np.array([2, 6], dtype=np.int64), "shape_b"),
        numpy_helper.from_array(np.float32(0.5).reshape(()), "bias"),
    ]
    nodes = [
        helper.make_node("LeakyRelu", ["x"], ["a"], name="/act/LeakyRelu", alpha=alpha),
        helper.make_node("Reshape", ["a", "shape"], ["r"], name="/Reshape"),
        helper.make_node("Add", ["r", "bias"], ["y"], name="/Add"),
        helper.make_node("Reshape", ["x", "shape_b"], ["z"], name="/side/Reshape"),
    ]
    out_shape = list(shape)
    graph = helper.make_graph(
        nodes, "fixme", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 6])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


X = [np.random.default_rng(1234).standard_normal((3, 4)).astype(np.float32)]


def converted(tmp_path: Path, overrides, proto: onnx.ModelProto | None = None) -> list[np.ndarray]:
    out = tmp_path / "net.py"
    convert(proto or model(), to="pytorch", out=out, overrides=overrides)
    return run_generated(out, X)


def assert_same(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)


def test_attribute_override(tmp_path: Path) -> None:
    got = converted(tmp_path, {"/act/LeakyRelu": {"attributes": {"alpha": 0.3}}})
    assert_same(got, run_onnxruntime(model(alpha=0.3), X))


def test_attribute_override_from_file_via_cli(tmp_path: Path) -> None:
    src = tmp_path / "m.onnx"
    onnx.save(model(), str(src))
    fix = tmp_path / "fix.json"
    fix.write_text(json.dumps({"/act/LeakyRelu": {"attributes": {"alpha": 0.3}}}))
    proc = subprocess.run(
        [sys.executable, "-m", "transpiler", str(src), "--to", "pytorch", "-o", str(tmp_path / "net.py"),
         "--override", str(fix), "--verbose"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "attribute alpha = 0.3" in proc.stderr
    assert_same(run_generated(tmp_path / "net.py", X), run_onnxruntime(model(alpha=0.3), X))


def test_input_constant_override_changes_only_that_node(tmp_path: Path) -> None:
    proto = model()
    proto.graph.node[3].input[1] = "shape"  # the side Reshape now shares "shape" with /Reshape
    got = converted(tmp_path, {"/Reshape": {"inputs": {"1": [4, 3]}}}, proto)
    want_model = model(shape=(4, 3))
    want_model.graph.node[3].input[1] = "shape_b"
    assert_same(got, run_onnxruntime(want_model, X))
    assert got[1].shape == (2, 6)  # the other reader of the shared constant is unchanged


def test_input_override_by_name_with_dtype(tmp_path: Path) -> None:
    got = converted(tmp_path, {"/Add": {"inputs": {"bias": {"value": 2.0, "dtype": "float32"}}}})
    want = run_onnxruntime(model(), X)
    np.testing.assert_allclose(got[0], want[0] + 1.5, rtol=1e-6)


def test_override_does_not_change_the_callers_model(tmp_path: Path) -> None:
    proto = model()
    before = proto.SerializeToString()
    converted(tmp_path, {"/act/LeakyRelu": {"attributes": {"alpha": 0.3}}}, proto)
    assert proto.SerializeToString() == before


def test_lower_as_uses_another_table_entry(tmp_path: Path) -> None:
    plugin = tmp_path / "choice.py"
    plugin.write_text(
        "from transpiler.plugins import table\n"
        "from transpiler.targets.pytorch.context import lit\n\n"
        "@table('pytorch').op('LeakyReluWhere', domain='my.choices')\n"
        "def leaky_where(ctx):\n"
        "    x = ctx.x(0)\n"
        "    return f'torch.where({x} >= 0, {x}, {lit(ctx.attr(\"alpha\", 0.01))} * {x})'\n"
    )
    with plugins.isolated():
        out = tmp_path / "net.py"
        result = convert(model(), to="pytorch", out=out, plugins=[plugin],
                         overrides={"/act/LeakyRelu": {"lower_as": "my.choices::LeakyReluWhere"}})
        assert "torch.where" in out.read_text()
        assert any("lowered as my.choices::LeakyReluWhere" in n for n in result.report.notes)
        assert_same(run_generated(out, X), run_onnxruntime(model(), X))


@pytest.mark.parametrize(
    "fix, message",
    [
        ({"/act/LeakyRelu_typo": {"attributes": {"alpha": 0.3}}}, "no node named '/act/LeakyRelu_typo' (did you mean '/act/LeakyRelu'"),
        ({"/act/LeakyRelu": {"attributes": {"alpah": 0.3}}}, "LeakyRelu has no attribute 'alpah' (it has: alpha)"),
        ({"/act/LeakyRelu": {"attributes": {"alpha": "big"}}}, "does not fit its type"),
        ({"/act/LeakyRelu": {"colour": "red"}}, "unknown key(s) ['colour']"),
        ({"/Reshape": {"inputs": {"7": [1]}}}, "has no input 7 (Reshape takes at most 2)"),
        ({"/Reshape": {"inputs": {"nope": [1]}}}, "neither an index nor one of its inputs"),
        ({"/act/LeakyRelu": {"lower_as": "nowhere::Nothing"}}, "has no such op"),
        ({"/act/LeakyRelu": {"attributes": {"alpha": None, "beta": None}}}, "no attribute 'beta' to remove"),
    ],
)
def test_clear_errors(tmp_path: Path, fix: dict, message: str) -> None:
    with pytest.raises(TranspileError) as e:
        convert(model(), to="pytorch", out=tmp_path / "out" / "net.py", overrides=fix)
    assert message in str(e.value)
    assert "\n" not in str(e.value)
    assert not (tmp_path / "out").exists()


def test_bad_override_files(tmp_path: Path) -> None:
    bad = tmp_path / "fix.json"
    bad.write_text("{not json")
    with pytest.raises(TranspileError, match="not a JSON file"):
        convert(model(), to="pytorch", out=tmp_path / "net.py", overrides=bad)
    bad.write_text("[1, 2]")
    with pytest.raises(TranspileError, match="JSON object keyed by node name"):
        convert(model(), to="pytorch", out=tmp_path / "net.py", overrides=bad)
    with pytest.raises(TranspileError, match="no such file"):
        convert(model(), to="pytorch", out=tmp_path / "net.py", overrides=tmp_path / "missing.json")
