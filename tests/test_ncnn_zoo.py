"""The zoo through the ncnn target, run by the `ncnn` wheel (fp32, Vulkan off): every model the
target accepts matches onnxruntime (rtol 1e-3, atol 1e-4), its .param loads, and conversion is
deterministic. A refused model is reported as xfail with the reasons, and listed in the suite
summary (that a refusal writes nothing is the pipeline's all-or-nothing writing, tested elsewhere)."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import numpy as np
import onnx
import pytest

from transpiler.api import build_options, get_target, load_source, lower
from transpiler.atomic import OutputFile, write_all
from transpiler.errors import UnsupportedModel
from transpiler.verify import run_onnxruntime

from .conftest import filled_model, zoo_manifest
from .test_zoo import manifest_inputs

ncnn = pytest.importorskip("ncnn")

MODELS = zoo_manifest()
NAMES = [m["name"] for m in MODELS] or ["(shared folder missing)"]
SUITE = "zoo through ncnn"
RTOL, ATOL = 1e-3, 1e-4


class _Hasher:
    def __init__(self) -> None:
        self.h = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.h.update(data)


def _sha256(f: OutputFile) -> str:
    """sha256 of what `f` would write."""
    sink = _Hasher()
    f.write(sink)  # type: ignore[arg-type]  # writers only call .write(bytes)
    return sink.h.hexdigest()


@pytest.mark.parametrize("name", NAMES)
def test_ncnn_zoo_model(name: str, record_property) -> None:
    from transpiler.targets.ncnn.runner import run_ncnn

    record_property("suite", SUITE)
    record_property("case", name)
    record_property("ok", False)
    entry = next((m for m in MODELS if m["name"] == name), None)
    path = filled_model(name)
    assert entry is not None
    inputs = manifest_inputs(entry)
    source = load_source(path)  # read once: big models cost seconds to read
    target = get_target("ncnn")
    options = build_options(target, "ncnn", None, None)
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "a" / "net.param"
        try:
            _, files = lower(source, target, out, options)
        except UnsupportedModel as e:
            why = "; ".join(str(r) for r in e.refusals)[:500]
            record_property("why", "refused: " + why)
            pytest.xfail(f"refused by the ncnn target: {why}")
        write_all(files)
        names = sorted(p.name for p in out.parent.iterdir())
        assert names == ["CMakeLists.txt", "main.cpp", "net.bin", "net.cpp", "net.h", "net.io.json", "net.param"]
        # a second lowering of the same model gives the same bytes (hashed, not written);
        # tests/test_determinism.py covers fresh processes and hash seeds
        _, again = lower(source, target, out, options)
        for f in again:
            assert _sha256(f) == hashlib.sha256(f.path.read_bytes()).hexdigest(), f"{f.path.name} differs between runs"
        got = run_ncnn(out, inputs)  # raises if the .param / .bin fail to load
    expected = run_onnxruntime(onnx.load(str(path)), inputs)
    assert len(got) == len(expected)
    worst = 0.0
    for k, (ref, o) in enumerate(zip(expected, got)):
        assert o.shape == ref.shape, f"output {k}: shape {o.shape} != {ref.shape}"
        worst = max(worst, float(np.max(np.abs(o.astype(np.float64) - ref))) if ref.size else 0.0)
        np.testing.assert_allclose(o, ref, rtol=RTOL, atol=ATOL, err_msg=f"output {k}")
    record_property("why", f"max abs diff {worst:.3g}")
    record_property("ok", True)


@pytest.mark.parametrize("name", ["resnet18", "gpt2_small", "yolo_like"])
def test_ncnn_fp16_within_stated_tolerance(name: str, tmp_path: Path) -> None:
    """--fp16 storage meets the tolerance the target states for it (rtol 1e-2, atol 1e-4 plus 1e-2
    of each output's peak |value|; see FP16_* in transpiler/targets/ncnn/__init__.py)."""
    from transpiler import convert
    from transpiler.targets.ncnn import FP16_ATOL, FP16_ATOL_OF_PEAK, FP16_RTOL

    result = convert(filled_model(name), to="ncnn", out=tmp_path / "net.param", check=True, options={"fp16": True})
    report = result.check
    assert report is not None and report.outputs
    assert (report.rtol, report.atol, report.atol_of_peak) == (FP16_RTOL, FP16_ATOL, FP16_ATOL_OF_PEAK)
    assert report.ok, "\n".join(report.lines())
    # fp16 storage really happened: the weights take about half the fp32 bytes
    fp32 = convert(filled_model(name), to="ncnn", out=tmp_path / "fp32" / "net.param")
    assert fp32.paths
    assert (tmp_path / "net.bin").stat().st_size < 0.6 * (tmp_path / "fp32" / "net.bin").stat().st_size
