"""Plugins: a custom-domain op converts to PyTorch through a plugin file (and through the
entry-point group) and the result matches a numpy reference implementation of the op."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx.reference import ReferenceEvaluator

from transpiler import convert, plugins
from transpiler.errors import TranspileError, UnsupportedModel
from transpiler.targets.pytorch.runner import run_generated

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "examples" / "plugins" / "custom_op.onnx"
PLUGIN = ROOT / "examples" / "plugins" / "scaled_tanh.py"


@pytest.fixture(autouse=True)
def _isolated():
    with plugins.isolated():
        yield


def _reference(inputs: list[np.ndarray]) -> list[np.ndarray]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("scaled_tanh_reference", PLUGIN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ref = ReferenceEvaluator(onnx.load(str(MODEL)), new_ops=[mod.reference_op()])
    return ref.run(None, {"input": inputs[0]})


def _inputs() -> list[np.ndarray]:
    return [np.random.default_rng(1234).standard_normal((2, 4)).astype(np.float32)]


def test_without_the_plugin_the_custom_op_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedModel, match="com.example::ScaledTanh"):
        convert(MODEL, to="pytorch", out=tmp_path / "net.py")
    assert not any(tmp_path.iterdir())


def test_plugin_file_converts_and_matches_the_reference(tmp_path: Path) -> None:
    out = tmp_path / "net.py"
    result = convert(MODEL, to="pytorch", out=out, plugins=[PLUGIN])
    assert result.paths == [out, out.with_suffix(".safetensors")]
    assert "torch.tanh" in out.read_text()
    inputs = _inputs()
    got = run_generated(out, inputs)
    want = _reference(inputs)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)


def test_plugin_via_cli(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "transpiler", str(MODEL), "--to", "pytorch", "-o", str(tmp_path / "net.py"),
         "--plugin", str(PLUGIN)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "net.safetensors").exists()


def test_entry_point_group(tmp_path: Path, monkeypatch) -> None:
    """An installed package naming a module in `transpiler.plugins` is loaded by itself."""
    pkg = tmp_path / "site"
    pkg.mkdir()
    (pkg / "my_transpiler_ops.py").write_text(PLUGIN.read_text())
    monkeypatch.syspath_prepend(str(pkg))

    class FakeEntryPoint:
        name, value = "my_ops", "my_transpiler_ops"

        def load(self):
            import importlib

            return importlib.import_module("my_transpiler_ops")

    monkeypatch.setattr(plugins, "entry_points", lambda group: [FakeEntryPoint()] if group == plugins.GROUP else [])
    monkeypatch.setattr(plugins, "_entry_points_loaded", False)
    monkeypatch.delitem(sys.modules, "my_transpiler_ops", raising=False)
    out = tmp_path / "out" / "net.py"
    convert(MODEL, to="pytorch", out=out)
    inputs = _inputs()
    np.testing.assert_allclose(run_generated(out, inputs)[0], _reference(inputs)[0], rtol=1e-5, atol=1e-6)


def test_broken_entry_point_is_one_clear_error(monkeypatch) -> None:
    class Broken:
        name, value = "bad", "nowhere.module"

        def load(self):
            raise ImportError("No module named 'nowhere'")

    monkeypatch.setattr(plugins, "entry_points", lambda group: [Broken()])
    monkeypatch.setattr(plugins, "_entry_points_loaded", False)
    with pytest.raises(TranspileError, match="plugin 'bad'.*nowhere"):
        plugins.load_plugins()


@pytest.mark.parametrize("content, message", [(None, "no such file"), ("raise RuntimeError('boom')\n", "boom"),
                                              ("def broken(:\n", "SyntaxError")])
def test_bad_plugin_files(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "my_ops.py"
    if content is not None:
        path.write_text(content)
    with pytest.raises(TranspileError, match=message):
        convert(MODEL, to="pytorch", out=tmp_path / "out" / "net.py", plugins=[path])
    assert not (tmp_path / "out").exists()


def test_unknown_target_in_plugin(tmp_path: Path) -> None:
    path = tmp_path / "my_ops.py"
    path.write_text("from transpiler.plugins import table\ntable('cobol')\n")
    with pytest.raises(TranspileError, match="unknown target 'cobol'"):
        plugins.load_plugin_file(path)


def test_isolated_undoes_registrations() -> None:
    table = plugins.table("pytorch")
    with plugins.isolated():
        plugins.load_plugin_file(PLUGIN)
        assert ("com.example", "ScaledTanh") in table
    assert ("com.example", "ScaledTanh") not in table
