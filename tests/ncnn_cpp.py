"""Building and running a generated ncnn C++ project (CMakeLists.txt + main.cpp + net.cpp)
against the static library from tests/ncnn_build.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

from .ncnn_build import cmake_dir, ncnn_prefix


def build_project(folder: Path) -> Path:
    """Configure and build the generated project in folder/build; returns the `main` binary."""
    build = folder / "build"
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    cfg = subprocess.run(
        ["cmake", "-S", str(folder), "-B", str(build), *gen, f"-Dncnn_DIR={cmake_dir(ncnn_prefix())}",
         "-DCMAKE_BUILD_TYPE=Release"],
        capture_output=True, text=True,
    )
    assert cfg.returncode == 0, f"cmake configure failed:\n{cfg.stdout}\n{cfg.stderr}"
    res = subprocess.run(["cmake", "--build", str(build), "-j2"], capture_output=True, text=True)
    assert res.returncode == 0, f"build failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    return build / "main"


def run_main(main: Path, folder: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run main on ONNX-layout inputs (written as raw files); outputs back in ONNX shapes."""
    spec = json.loads((folder / "net.io.json").read_text())
    work = folder / "run"
    work.mkdir(exist_ok=True)
    files = []
    for k, (entry, arr) in enumerate(zip(spec["inputs"], inputs)):
        dtype = "<i4" if entry["dtype"] == "int32" else "<f4"
        p = work / f"in{k}.raw"
        p.write_bytes(np.ascontiguousarray(arr).astype(dtype).tobytes())
        files.append(str(p))
    res = subprocess.run(
        [str(main), "--model", str(folder), "--out", str(work), *files], capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, f"main failed ({res.returncode}):\n{res.stdout}\n{res.stderr}"
    header = (folder / "net.h").read_text()
    outs = []
    for entry in spec["outputs"]:
        ident = _output_ident(header, entry["onnx_name"])
        data = np.fromfile(work / f"{ident}.raw", dtype="<f4")
        outs.append(data.reshape(entry["onnx_shape"]))
    return outs


def _output_ident(header: str, onnx_name: str) -> str:
    """The Outputs field that stands for an ONNX output (net.h comments each field with it)."""
    for line in header.splitlines():
        line = line.strip()
        if line.startswith("ncnn::Mat ") and f"// {onnx_name}:" in line:
            return line.split()[1].rstrip(";")
    raise KeyError(onnx_name)
