"""The zoo (../shared/zoo): every model converts, matches onnxruntime, and regenerates identically."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import pytest

from transpiler import convert
from transpiler.verify import run_onnxruntime

from .conftest import filled_model, zoo_manifest

torch = pytest.importorskip("torch")

MODELS = zoo_manifest()
NAMES = [m["name"] for m in MODELS] or ["(shared folder missing)"]
SUITE = "zoo through pytorch"
RTOL, ATOL = 1e-3, 1e-4


def manifest_inputs(entry: dict) -> list[np.ndarray]:
    """The manifest's rule: default_rng(1234); floats standard normal, ints in [low, high)."""
    rng = np.random.default_rng(1234)
    out = []
    for spec in entry["inputs"]:
        dtype = np.dtype(spec["dtype"])
        if np.issubdtype(dtype, np.floating):
            out.append(rng.standard_normal(spec["shape"]).astype(dtype))
        else:
            out.append(rng.integers(spec["low"], spec["high"], spec["shape"]).astype(dtype))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_zoo_model(name: str, record_property) -> None:
    from transpiler.targets.pytorch.runner import run_generated

    record_property("suite", SUITE)
    record_property("case", name)
    record_property("ok", False)
    entry = next((m for m in MODELS if m["name"] == name), None)
    path = filled_model(name)
    assert entry is not None
    inputs = manifest_inputs(entry)
    expected = run_onnxruntime(onnx.load(str(path)), inputs)
    with tempfile.TemporaryDirectory() as d:
        out_a, out_b = Path(d) / "a" / "net.py", Path(d) / "b" / "net.py"
        convert(path, to="pytorch", out=out_a)
        convert(path, to="pytorch", out=out_b)
        assert sorted(p.name for p in out_a.parent.iterdir()) == ["net.py", "net.safetensors"]
        for f in ("net.py", "net.safetensors"):
            assert (out_a.parent / f).read_bytes() == (out_b.parent / f).read_bytes(), f"{f} differs between runs"
        compile(out_a.read_text(), str(out_a), "exec")
        lint = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "E,F,W", "--ignore", "E501",
             str(out_a)],
            capture_output=True, text=True,
        )
        assert lint.returncode == 0, f"ruff findings in the generated code:\n{lint.stdout}"
        got = run_generated(out_a, inputs)
    assert len(got) == len(expected)
    for k, (ref, out) in enumerate(zip(expected, got)):
        assert out.shape == ref.shape, f"output {k}: shape {out.shape} != {ref.shape}"
        np.testing.assert_allclose(out, ref, rtol=RTOL, atol=ATOL, err_msg=f"output {k}")
    record_property("ok", True)
