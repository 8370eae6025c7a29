"""The generated C++ project builds against ncnn's static library (built once from the PyPI sdist,
see ncnn_build.py) and `main` reproduces onnxruntime on the zoo's manifest inputs; one model is
built with --ncnn-embed (param and weights compiled into the binary, no model files read)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import onnx
import pytest

from transpiler import convert
from transpiler.verify import run_onnxruntime

from .conftest import filled_model, zoo_manifest
from .test_zoo import manifest_inputs

if shutil.which("cmake") is None or shutil.which("c++") is None:
    # CI's machine has both (cmake, g++): there, a missing tool is a broken machine, not a skip
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError("CI=true but cmake or a C++ compiler (c++) is missing")
    pytest.skip("cmake and a C++ compiler are needed", allow_module_level=True)

SUITE = "zoo through ncnn C++"
RTOL, ATOL = 1e-3, 1e-4
# small, varied models: conv+pool+gemm, 1-d conv + log-softmax, transformer-free MLP,
# depthwise + hardswish + SE, deconvolution + resize + concat
MODELS = ["conv1d_audio", "tiny_mlp", "squeezenet1_1", "mobilenet_v3_small", "tiny_unet"]
EMBED = "tiny_mlp"


def _check(name: str, embed: bool, record_property) -> None:
    from .ncnn_cpp import build_project, run_main

    record_property("suite", SUITE)
    record_property("case", name + (" (embed)" if embed else ""))
    record_property("ok", False)
    entry = next(m for m in zoo_manifest() if m["name"] == name)
    path = filled_model(name)
    inputs = manifest_inputs(entry)
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "out"
        convert(path, to="ncnn", out=folder / "net.param", options={"ncnn_embed": True} if embed else None)
        if embed:
            assert (folder / "net.mem.h").is_file()
        main = build_project(folder)
        if embed:  # the binary must not need the model files
            (folder / "net.param").unlink()
            (folder / "net.bin").unlink()
        got = run_main(main, folder, inputs)
    expected = run_onnxruntime(onnx.load(str(path)), inputs)
    for k, (ref, o) in enumerate(zip(expected, got)):
        assert o.shape == ref.shape
        np.testing.assert_allclose(o, ref.astype(np.float32), rtol=RTOL, atol=ATOL, err_msg=f"output {k}")
    record_property("ok", True)


@pytest.mark.parametrize("name", MODELS)
def test_ncnn_cpp_model(name: str, record_property) -> None:
    _check(name, False, record_property)


def test_ncnn_cpp_embed(record_property) -> None:
    _check(EMBED, True, record_property)
