"""Running a generated Keras file (for --check and the tests) in this process, on whatever
backend KERAS_BACKEND selects. Inputs and outputs are numpy arrays in the ONNX layout: the file's
INPUT_PERMS / OUTPUT_PERMS move them to and from the model's layout."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import TranspileError

_counter = itertools.count()


def import_generated(path: Path) -> Any:
    """Import a generated file fresh, under a unique module name, without writing __pycache__."""
    try:
        import keras  # noqa: F401
    except ImportError:
        raise TranspileError("keras is not installed: pip install keras and a backend (tensorflow, jax or torch)") from None
    name = f"_transpiled_keras_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    saved = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module


def run_module(module: Any, model: Any, inputs: list[Any]) -> list[np.ndarray]:
    """Call a loaded model on ONNX-layout numpy inputs; outputs in ONNX layout."""
    import keras

    feeds = []
    for x, perm in zip(inputs, module.INPUT_PERMS):
        arr = np.asarray(x)
        feeds.append(np.ascontiguousarray(arr.transpose(perm)) if perm is not None else arr)
    out = model(feeds, training=False)
    if not isinstance(out, (list, tuple)):
        out = [out]
    result = []
    for y, perm in zip(out, module.OUTPUT_PERMS):
        arr = np.asarray(keras.ops.convert_to_numpy(y))
        result.append(np.ascontiguousarray(arr.transpose(perm)) if perm is not None else arr)
    return result


def run_generated(path: Path, inputs: list[Any]) -> list[np.ndarray]:
    module = import_generated(Path(path))
    model = module.load_model()
    return run_module(module, model, inputs)
