"""The zoo through the Caffe target: every model it accepts matches onnxruntime through OpenCV's
Caffe reader; every model it refuses is refused cleanly (UnsupportedModel, every refused node with
a reason, nothing written; such a model counts as failed in the suite's summary). The classic CNNs
must be accepted."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import onnx
import pytest

from transpiler import convert
from transpiler.errors import UnsupportedModel
from transpiler.verify import run_onnxruntime

from .conftest import filled_model, zoo_manifest
from .test_zoo import manifest_inputs

pytest.importorskip("cv2")

MODELS = zoo_manifest()
NAMES = [m["name"] for m in MODELS] or ["(shared folder missing)"]
SUITE = "zoo through caffe"
RTOL, ATOL = 1e-3, 1e-4
# the classic CNNs of the bar: these must convert (the rest may be refused, with reasons)
MUST_CONVERT = frozenset({
    "alexnet", "vgg11_bn", "squeezenet1_1", "resnet18", "resnet18_dynamo", "googlenet", "densenet121",
    "mobilenet_v2", "shufflenet_v2_x0_5", "regnet_x_400mf", "tiny_mlp", "fcn_resnet50",
})


@pytest.mark.parametrize("name", NAMES)
def test_zoo_model_caffe(name: str, record_property) -> None:
    from transpiler.targets.caffe.runner import run_caffe

    record_property("suite", SUITE)
    record_property("case", name)
    record_property("ok", False)
    entry = next((m for m in MODELS if m["name"] == name), None)
    path = filled_model(name)
    assert entry is not None
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "out" / "net.prototxt"
        try:
            convert(path, to="caffe", out=out)
        except UnsupportedModel as e:
            assert name not in MUST_CONVERT, f"{name} must convert:\n{e}"
            assert e.refusals and all(r.reason for r in e.refusals)
            assert not out.parent.exists(), "a refused model left files behind"
            first = e.refusals[0]
            record_property("op", "refused")  # counted as failed in the summary, never as passed
            record_property("why", f"{len(e.refusals)} node(s) refused, first: {first}")
            return
        assert sorted(p.name for p in out.parent.iterdir()) == ["net.caffemodel", "net.io.json", "net.prototxt"]
        inputs = manifest_inputs(entry)
        got = run_caffe(out, inputs)
    expected = run_onnxruntime(onnx.load(str(path)), inputs)
    assert len(got) == len(expected)
    for k, (ref, res) in enumerate(zip(expected, got)):
        assert res.shape == ref.shape, f"output {k}: shape {res.shape} != {ref.shape}"
        np.testing.assert_allclose(res, ref, rtol=RTOL, atol=ATOL, err_msg=f"output {k}")
    record_property("op", "converted")
    record_property("ok", True)
