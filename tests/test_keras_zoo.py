"""The zoo (../shared/zoo) through the Keras target, on the tensorflow, jax and torch backends.

Each model is converted once per test process; the same generated file then runs on every
backend in that backend's own worker process (tests/keras_harness.py) and must match onnxruntime
(allclose rtol=1e-3, atol=1e-4) on the manifest's inputs.
"""

from __future__ import annotations

import atexit
import shutil
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
from .keras_harness import BACKENDS, run_sets
from .test_zoo import manifest_inputs

pytest.importorskip("keras")

MODELS = zoo_manifest()
NAMES = [m["name"] for m in MODELS] or ["(shared folder missing)"]
RTOL, ATOL = 1e-3, 1e-4
_converted: dict[str, Path] = {}
_root = Path(tempfile.mkdtemp(prefix="keras-zoo-"))
atexit.register(shutil.rmtree, _root, True)


def converted(name: str) -> Path:
    """The model converted for Keras (once per test process), checked for what it wrote."""
    if name not in _converted:
        out = _root / name / "net.py"
        convert(filled_model(name), to="keras", out=out)
        assert sorted(p.name for p in out.parent.iterdir()) == ["net.py", "net.safetensors"]
        lint = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "E,F,W", "--ignore", "E501",
             str(out)],
            capture_output=True, text=True,
        )
        assert lint.returncode == 0, f"ruff findings in the generated code:\n{lint.stdout}"
        _converted[name] = out
    return _converted[name]


@pytest.mark.parametrize("name,backend", [(n, b) for n in NAMES for b in BACKENDS])
def test_keras_zoo(name: str, backend: str, record_property) -> None:
    record_property("suite", f"zoo through keras ({backend})")
    record_property("case", name)
    record_property("ok", False)
    entry = next((m for m in MODELS if m["name"] == name), None)
    assert entry is not None
    net = converted(name)
    inputs = manifest_inputs(entry)
    expected = run_onnxruntime(onnx.load(str(filled_model(name))), inputs)
    (got,) = run_sets(backend, net, [inputs])
    assert len(got) == len(expected)
    for k, (ref, out) in enumerate(zip(expected, got)):
        assert out.shape == ref.shape, f"output {k}: shape {out.shape} != {ref.shape}"
        np.testing.assert_allclose(out, ref, rtol=RTOL, atol=ATOL, err_msg=f"output {k} on {backend}")
    record_property("ok", True)


def test_conversion_does_not_import_keras(tmp_path: Path) -> None:
    """Conversion is pure code generation: a fresh interpreter converts without importing keras."""
    code = (
        "import sys\n"
        "from transpiler import convert\n"
        "from tests.models import dynamic_batch_cnn\n"
        f"convert(dynamic_batch_cnn(), to='keras', out={str(tmp_path / 'net.py')!r})\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow', 'jax'))\n"
        "print(bad)\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
