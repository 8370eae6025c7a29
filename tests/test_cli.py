"""The command line: --help, bad inputs (one line, non-zero, nothing written), refusals, --check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from transpiler import cli

from .models import dynamic_batch_cnn, single_op


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "transpiler", *args], capture_output=True, text=True, timeout=300)


def assert_clean_error(proc: subprocess.CompletedProcess, out_dir: Path, contains: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    first = proc.stderr.strip().splitlines()[0]
    assert first.startswith("transpile: error:"), proc.stderr
    assert contains in proc.stderr, proc.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir()), "a failed run left files behind"


def test_help_lists_targets_and_options() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    for word in ("--to", "--check", "--class-name", "pytorch", "-o"):
        assert word in proc.stdout


def test_missing_file(tmp_path: Path) -> None:
    proc = run_cli(str(tmp_path / "nope.onnx"), "--to", "pytorch", "-o", str(tmp_path / "out" / "net.py"))
    assert_clean_error(proc, tmp_path / "out", "no such file")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    proc = run_cli(str(tmp_path), "--to", "pytorch", "-o", str(tmp_path / "out" / "net.py"))
    assert_clean_error(proc, tmp_path / "out", "not a file")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "not an ONNX model"),
        (b"\xff\xfe garbage that is not a protobuf \x00\x01", "ONNX"),
    ],
)
def test_corrupt_files(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(content)
    proc = run_cli(str(bad), "--to", "pytorch", "-o", str(tmp_path / "out" / "net.py"))
    assert_clean_error(proc, tmp_path / "out", message)


def test_truncated_model(tmp_path: Path) -> None:
    data = dynamic_batch_cnn().SerializeToString()
    bad = tmp_path / "trunc.onnx"
    bad.write_bytes(data[: len(data) // 2])
    proc = run_cli(str(bad), "--to", "pytorch", "-o", str(tmp_path / "out" / "net.py"))
    assert_clean_error(proc, tmp_path / "out", "error")


def test_every_unsupported_node_is_listed(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("FancyOp", ["x"], ["a"], domain="com.example", name="first_custom"),
        helper.make_node("Relu", ["a"], ["b"], name="ok_relu"),
        helper.make_node("OtherOp", ["b"], ["y"], domain="com.example", name="second_custom"),
    ]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)], ir_version=8
    )
    path = tmp_path / "custom.onnx"
    onnx.save(model, str(path))
    proc = run_cli(str(path), "--to", "pytorch", "-o", str(tmp_path / "out" / "net.py"))
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr
    assert "2 node(s) cannot be converted" in proc.stderr
    assert "first_custom" in proc.stderr and "second_custom" in proc.stderr
    assert "com.example::FancyOp" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_check_passes_and_prints_differences(tmp_path: Path) -> None:
    path = tmp_path / "cnn.onnx"
    onnx.save(dynamic_batch_cnn(), str(path))
    proc = run_cli(str(path), "--to", "pytorch", "-o", str(tmp_path / "out" / "net.py"), "--check")
    assert proc.returncode == 0, proc.stderr
    assert "max abs diff" in proc.stdout and "ok" in proc.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["net.py", "net.safetensors"]


def test_check_fails_on_mismatch(tmp_path: Path, monkeypatch, capsys) -> None:
    """A lowering made wrong on purpose: --check must notice and exit 1."""
    from transpiler.targets.pytorch.ops import elementwise

    monkeypatch.setitem(elementwise.UNARY, "Relu", "torch.sigmoid({x})")
    path = tmp_path / "cnn.onnx"
    onnx.save(dynamic_batch_cnn(), str(path))
    status = cli.main([str(path), "--to", "pytorch", "-o", str(tmp_path / "out" / "net.py"), "--check"])
    captured = capsys.readouterr()
    assert status == 1
    assert "MISMATCH" in captured.out
    assert "does not match onnxruntime" in captured.err


def test_class_name_option(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(single_op("Relu"), str(path))
    status = cli.main([str(path), "--to", "pytorch", "-o", str(tmp_path / "net.py"), "--class-name", "MyNet"])
    assert status == 0
    assert "class MyNet(nn.Module):" in (tmp_path / "net.py").read_text()


# -- subcommands and the options around conversion ------------------------------------------------
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_convert_still_works_with_the_model_first(tmp_path: Path) -> None:
    status = cli.main([str(EXAMPLES / "tiny_mlp.onnx"), "--to", "pytorch", "-o", str(tmp_path / "net.py"), "-q"])
    assert status == 0 and (tmp_path / "net.safetensors").exists()


def test_ops_subcommand(capsys) -> None:
    assert cli.main(["ops"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[0] == "op" and "pytorch" in out.splitlines()[0]
    assert any(line.startswith("Conv ") for line in out.splitlines())
    assert cli.main(["ops", "--markdown", "--to", "pytorch"]) == 0
    assert "| `Conv` | ✓ |" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [("x", "expected NAME=D0,D1,..."), ("x=1,a", "expected NAME=D0,D1,..."), ("x=1,-3", "non-negative"),
     ("nope=1,3,8,8", "no input 'nope'")],
)
def test_input_shape_errors(tmp_path: Path, value: str, message: str, capsys) -> None:
    path = tmp_path / "cnn.onnx"
    onnx.save(dynamic_batch_cnn(), str(path))
    status = cli.main([str(path), "--to", "pytorch", "-o", str(tmp_path / "out" / "net.py"), "--input-shape", value])
    err = capsys.readouterr().err
    assert status == 2 and message in err and err.startswith("transpile: error:")
    assert not (tmp_path / "out").exists()


def test_input_shape_repeatable_and_shown_in_code(tmp_path: Path) -> None:
    path = tmp_path / "cnn.onnx"
    onnx.save(dynamic_batch_cnn(), str(path))
    status = cli.main([str(path), "--to", "pytorch", "-o", str(tmp_path / "net.py"), "--input-shape", "x=2,3,8,8"])
    assert status == 0
    assert "[2, 3, 8, 8]" in (tmp_path / "net.py").read_text()
    status = cli.main([str(path), "--to", "pytorch", "-o", str(tmp_path / "n2.py"), "--input-shape", "x=2,3,8,8",
                       "--input-shape", "x=3,3,8,8"])
    assert status == 2


def test_to_ir_writes_json_and_weights(tmp_path: Path, capsys) -> None:
    status = cli.main([str(EXAMPLES / "tiny_mlp.onnx"), "--to", "ir", "-o", str(tmp_path / "m.ir.json")])
    assert status == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.ir.json", "m.ir.safetensors"]
