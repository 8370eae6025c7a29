"""Running a written Caffe net with OpenCV's dnn Caffe reader (for --check and the tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def io_path(prototxt: Path) -> Path:
    return prototxt.with_suffix(".io.json")


def run_caffe(prototxt: Path, inputs: list[Any]) -> list[np.ndarray]:
    try:
        import cv2
    except ImportError:
        raise RuntimeError("running a Caffe net needs OpenCV (pip install opencv-python-headless)") from None
    prototxt = Path(prototxt)
    io = json.loads(io_path(prototxt).read_text(encoding="utf-8"))
    net = cv2.dnn.readNetFromCaffe(str(prototxt), str(prototxt.with_suffix(".caffemodel")))
    for spec, x in zip(io["inputs"], inputs):
        if spec["name"] is None:  # an input the net does not read
            continue
        net.setInput(np.ascontiguousarray(np.asarray(x, dtype=np.float32).reshape(spec["shape"])), spec["name"])
    names = [o["name"] for o in io["outputs"]]
    outs = net.forward(names)
    result = []
    for spec, out in zip(io["outputs"], outs):
        result.append(np.asarray(out).reshape(_target_shape(spec)))
    return result


def _target_shape(spec: dict[str, Any]) -> list[int]:
    """The ONNX shape of an output (OpenCV may drop trailing 1-dims): symbolic or unknown dims are
    inferred from the size when there is one, else taken from the net's own (fixed) shape."""
    onnx_shape, shape = spec["onnx_shape"], spec["shape"]
    unknown = [k for k, d in enumerate(onnx_shape) if not isinstance(d, int)]
    if len(unknown) <= 1:
        return [d if isinstance(d, int) else -1 for d in onnx_shape]
    return list(shape)
