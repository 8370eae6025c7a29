"""The Python API: convert() with a path or a ModelProto returns paths, report and check figures;
strict=False reports refusals instead of raising; input shapes are pinned with clear errors."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

import transpiler
from transpiler import convert
from transpiler.errors import TranspileError, UnsupportedModel
from transpiler.targets.pytorch.runner import run_generated
from transpiler.verify import run_onnxruntime, seeded_inputs

from .models import dynamic_batch_cnn, single_op

ROOT = Path(__file__).resolve().parents[1]


def test_exports() -> None:
    assert callable(transpiler.convert) and callable(transpiler.inspect)
    assert {"convert", "inspect", "ConvertResult", "Report"} <= set(transpiler.__all__)


def test_convert_path_with_check(tmp_path: Path) -> None:
    out = tmp_path / "net.py"
    result = convert(ROOT / "examples" / "small_cnn.onnx", to="pytorch", out=out, check=True)
    assert result.paths == [out, out.with_suffix(".safetensors")]
    assert result.ok and result.check is not None and result.check.ok
    assert [o.name for o in result.check.outputs] == ["logits"]
    assert result.check.outputs[0].max_abs < 1e-4
    assert result.report.target == "pytorch" and result.report.nodes > 0
    assert result.report.refusals == []
    assert {"reading the model", "writing", "total"} <= set(result.report.timings)


def test_convert_model_proto(tmp_path: Path) -> None:
    proto = dynamic_batch_cnn()
    before = proto.SerializeToString()
    result = convert(proto, to="pytorch", out=tmp_path / "net.py")
    assert [p.name for p in result.paths] == ["net.py", "net.safetensors"]
    assert proto.SerializeToString() == before


def test_strict_false_reports_refusals_and_writes_nothing(tmp_path: Path) -> None:
    proto = single_op("FancyOp", domain="com.example")
    result = convert(proto, to="pytorch", out=tmp_path / "out" / "net.py", strict=False)
    assert result.paths == [] and not result.ok
    assert [(r.domain, r.op_type, r.node_name) for r in result.report.refusals] == [("com.example", "FancyOp", "my_fancyop")]
    assert not (tmp_path / "out").exists()
    with pytest.raises(UnsupportedModel):
        convert(proto, to="pytorch", out=tmp_path / "out" / "net.py")


def test_unknown_target_and_options(tmp_path: Path) -> None:
    with pytest.raises(TranspileError, match="unknown target 'cobol'"):
        convert(dynamic_batch_cnn(), to="cobol", out=tmp_path / "net.py")
    with pytest.raises(TranspileError, match="--fp16: not an option of --to pytorch"):
        convert(dynamic_batch_cnn(), to="pytorch", out=tmp_path / "net.py", options={"fp16": True})


def test_input_shape_pins_symbolic_dims(tmp_path: Path) -> None:
    proto = dynamic_batch_cnn()  # input x: [N, 3, 8, 8]
    out = tmp_path / "net.py"
    result = convert(proto, to="pytorch", out=out, input_shapes={"x": [4, 3, 8, 8]}, check=True)
    assert result.check.ok
    assert any("x: shape pinned to [4, 3, 8, 8]" in n for n in result.report.notes)
    # the caller's model keeps its symbolic batch
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    pinned = onnx.ModelProto()
    pinned.CopyFrom(proto)
    pinned.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 4
    inputs = seeded_inputs(pinned)
    assert inputs[0].shape == (4, 3, 8, 8)
    for got, want in zip(run_generated(out, inputs), run_onnxruntime(proto, inputs)):
        assert got.shape == want.shape == (4, 5)


@pytest.mark.parametrize(
    "shapes, message",
    [
        ({"nope": [1, 3, 8, 8]}, "the model has no input 'nope' (inputs: x)"),
        ({"x": [1, 3, 8]}, "3 dims given, but the input has rank 4 ([N, 3, 8, 8])"),
        ({"x": [1, 4, 8, 8]}, "dim 1 is fixed at 3 in the model, not 4"),
    ],
)
def test_input_shape_errors(tmp_path: Path, shapes: dict, message: str) -> None:
    with pytest.raises(TranspileError) as e:
        convert(dynamic_batch_cnn(), to="pytorch", out=tmp_path / "out" / "net.py", input_shapes=shapes)
    assert message in str(e.value)
    assert not (tmp_path / "out").exists()


def test_inspect_api() -> None:
    result = transpiler.inspect(ROOT / "examples" / "small_cnn.onnx", ["pytorch"])
    assert result.inputs[0].name == "input" and result.inputs[0].shape == [1, 3, 16, 16]
    assert result.ops["Conv"] == 2 and result.parameters > 0
    assert [(t.target, t.status) for t in result.targets] == [("pytorch", "ok")]
