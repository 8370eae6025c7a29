"""Running a written `.param` / `.bin` with the `ncnn` Python wheel (for --check and the tests).

fp32 everywhere (fp16/bf16 storage and arithmetic off), Vulkan off. Inputs arrive in ONNX layout
and are only reshaped to the ncnn shapes that `<stem>.io.json` records; outputs are reshaped back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def io_spec(param: Path) -> dict:
    return json.loads(Path(param).with_suffix(".io.json").read_text())


def load_net(param: Path, bin_path: Path | None = None) -> Any:
    import ncnn

    net = ncnn.Net()
    opt = net.opt
    opt.use_vulkan_compute = False
    opt.use_fp16_storage = False
    opt.use_fp16_packed = False
    opt.use_fp16_arithmetic = False
    opt.use_bf16_storage = False
    opt.num_threads = 1
    if net.load_param(str(param)) != 0:
        raise RuntimeError(f"ncnn failed to load {param}")
    if net.load_model(str(bin_path or Path(param).with_suffix(".bin"))) != 0:
        raise RuntimeError(f"ncnn failed to load the weights of {param}")
    return net


def to_mat_array(arr: np.ndarray, entry: dict) -> np.ndarray:
    dtype = np.int32 if entry["dtype"] == "int32" else np.float32
    return np.ascontiguousarray(np.asarray(arr).astype(dtype).reshape(entry["shape"]))


def from_mat_array(arr: np.ndarray, entry: dict) -> np.ndarray:
    out = np.asarray(arr, dtype=np.float32).reshape(entry["onnx_shape"])
    dtype = entry.get("dtype", "float32")
    if dtype == "bool":
        return out != 0
    return out.astype(dtype)


def run_ncnn(param: Path, inputs: list[np.ndarray], extra_blobs: list[str] | None = None) -> list[np.ndarray]:
    import ncnn

    spec = io_spec(param)
    net = load_net(param)
    try:
        results = []
        # ncnn.Mat wraps the numpy buffer without copying (keep it alive); the clone gives ncnn
        arrays = [to_mat_array(arr, entry) for entry, arr in zip(spec["inputs"], inputs)]
        mats = [ncnn.Mat(a).clone() for a in arrays]  # own memory: in-place layers write to inputs
        with net.create_extractor() as ex:
            for entry, mat in zip(spec["inputs"], mats):
                ex.input(entry["name"], mat)
            for entry in spec["outputs"]:
                ret, mat = ex.extract(entry["name"])
                if ret != 0:
                    raise RuntimeError(f"ncnn could not compute {entry['name']} (error {ret})")
                results.append(from_mat_array(np.array(mat), entry))
            for blob in extra_blobs or []:
                ret, mat = ex.extract(blob)
                results.append(np.array(mat) if ret == 0 else None)
        del mats, arrays
        return results
    finally:
        net.clear()
