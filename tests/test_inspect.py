"""`transpile inspect`: inputs/outputs, opset, parameters, op histogram and per-target refusals
(the real pipeline, nothing written), as text or JSON; exit 0; unavailable targets listed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from transpiler import cli, targets
from transpiler.report import inspect

ROOT = Path(__file__).resolve().parents[1]


def custom_model() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="ok_relu"),
        helper.make_node("FancyOp", ["a"], ["b"], domain="com.example", name="first_custom"),
        helper.make_node("Relu", ["b"], ["y"], name="second_relu"),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)],
                             ir_version=8)


def test_inspect_lists_refusals_for_every_target(tmp_path: Path) -> None:
    path = tmp_path / "custom.onnx"
    onnx.save(custom_model(), str(path))
    result = inspect(path)
    assert [t.name for t in result.inputs] == ["x"] and result.inputs[0].shape == ["N", 4]
    assert result.ops == {"Relu": 2, "com.example::FancyOp": 1}
    assert result.opset == {"": 17, "com.example": 1}
    listed = [t.target for t in result.targets]
    assert listed == [n for n in targets.names() if n != "ir"]  # the IR keeps every op: not listed
    for verdict in result.targets:
        if verdict.status == "unavailable":
            continue
        assert verdict.status in ("refused", "error"), verdict
        if verdict.status == "refused":
            assert any(r["node"] == "first_custom" and r["domain"] == "com.example" for r in verdict.refusals)
    assert not any(p for p in tmp_path.iterdir() if p.name != "custom.onnx")


def test_cli_text_and_json(tmp_path: Path) -> None:
    model = str(ROOT / "examples" / "small_cnn.onnx")
    text = subprocess.run([sys.executable, "-m", "transpiler", "inspect", model, "--to", "pytorch"],
                          capture_output=True, text=True, timeout=300)
    assert text.returncode == 0, text.stderr
    for part in ("inputs:", "input: float [1, 3, 16, 16]", "logits: float [1, 10]", "opset: ai.onnx 17",
                 "parameters: 1,658 (6.5 KB)", "Conv", "pytorch: converts"):
        assert part in text.stdout, part
    js = subprocess.run([sys.executable, "-m", "transpiler", "inspect", model, "--json", "--to", "pytorch"],
                        capture_output=True, text=True, timeout=300)
    assert js.returncode == 0, js.stderr
    data = json.loads(js.stdout)
    assert data["ops"]["Conv"] == 2 and data["ops"]["BatchNormalization"] == 2
    assert data["parameters"] == sum(
        int(__import__("numpy").prod(t.dims)) for t in onnx.load(model).graph.initializer
    )
    assert data["targets"] == [{"target": "pytorch", "status": "ok", "refusals": [], "reason": ""}]


def test_unimportable_target_is_listed_as_unavailable(monkeypatch, capsys) -> None:
    monkeypatch.setitem(targets._TARGETS, "brokentarget", "transpiler.targets.no_such_package")
    status = cli.main(["inspect", str(ROOT / "examples" / "tiny_mlp.onnx"), "--to", "pytorch"])
    assert status == 0
    result = inspect(ROOT / "examples" / "tiny_mlp.onnx", ["pytorch", "brokentarget"])
    broken = result.targets[1]
    assert broken.status == "unavailable" and "ModuleNotFoundError" in broken.reason
    assert "brokentarget: unavailable: ModuleNotFoundError" in result.text()


def test_inspect_with_input_shape_and_bad_file(tmp_path: Path, capsys) -> None:
    from .models import dynamic_batch_cnn

    path = tmp_path / "cnn.onnx"
    onnx.save(dynamic_batch_cnn(), str(path))
    result = inspect(path, ["pytorch"], input_shapes={"x": [2, 3, 8, 8]})
    assert result.inputs[0].shape == [2, 3, 8, 8]
    assert cli.main(["inspect", str(tmp_path / "missing.onnx")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["inspect", "--help"], ["ops", "--help"]])
def test_subcommand_help(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 0
    assert "transpile " + argv[0] in capsys.readouterr().out
