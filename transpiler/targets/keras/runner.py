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


# ml_dtypes' names for the types a generated file holds wide (its WIDE_INPUTS / WIDE_OUTPUTS)
ML_DTYPES = {
    "float8e4m3fn": "float8_e4m3fn", "float8e4m3fnuz": "float8_e4m3fnuz", "float8e5m2": "float8_e5m2",
    "float8e5m2fnuz": "float8_e5m2fnuz", "float4e2m1": "float4_e2m1fn", "float8e8m0": "float8_e8m0fnu",
    "int4": "int4", "uint4": "uint4", "int2": "int2", "uint2": "uint2", "bfloat16": "bfloat16",
}
WIDE_AS = {"int4": np.int8, "int2": np.int8, "uint4": np.uint8, "uint2": np.uint8}  # floats: float32


def widen(arr: np.ndarray, name: str) -> np.ndarray:
    """An input of ONNX type `name` as the wider dtype the generated file holds it in (exact)."""
    return arr.astype(WIDE_AS.get(name, np.float32))


def narrow(arr: np.ndarray, name: str, what: str) -> np.ndarray:
    """A wide output as the ONNX type `name` it holds; refuses (never rounds) a value that type lacks."""
    import ml_dtypes

    out = arr.astype(np.dtype(getattr(ml_dtypes, ML_DTYPES[name])))
    back = out.astype(arr.dtype)
    same = np.array_equal(back, arr, equal_nan=arr.dtype.kind == "f")
    if same and arr.dtype.kind == "f":
        real = ~np.isnan(arr)
        same = bool(np.array_equal(np.signbit(back[real]), np.signbit(arr[real])))
    if not same:
        raise TranspileError(f"{what}: {arr.dtype} values not exactly representable in {name}")
    return out


def run_module(module: Any, model: Any, inputs: list[Any], narrow_outputs: bool = True) -> list[np.ndarray]:
    """Call a loaded model on ONNX-layout numpy inputs; outputs in ONNX layout. Inputs and outputs
    of types no Keras backend has (the file's WIDE_INPUTS / WIDE_OUTPUTS) are widened / narrowed
    here, unless `narrow_outputs` is false (the caller then gets the wide values)."""
    import keras

    wide_in, wide_out = getattr(module, "WIDE_INPUTS", {}), getattr(module, "WIDE_OUTPUTS", {})
    feeds = []
    for i, (x, perm) in enumerate(zip(inputs, module.INPUT_PERMS)):
        arr = np.asarray(x)
        if i in wide_in:
            arr = widen(arr, wide_in[i])
        feeds.append(np.ascontiguousarray(arr.transpose(perm)) if perm is not None else arr)
    out = model(feeds, training=False)
    if not isinstance(out, (list, tuple)):
        out = [out]
    result = []
    for k, (y, perm) in enumerate(zip(out, module.OUTPUT_PERMS)):
        arr = np.asarray(keras.ops.convert_to_numpy(y))
        arr = np.ascontiguousarray(arr.transpose(perm)) if perm is not None else arr
        if k in wide_out and narrow_outputs:
            arr = narrow(arr, wide_out[k], f"output {k}")
        result.append(arr)
    return result


def run_generated(path: Path, inputs: list[Any]) -> list[np.ndarray]:
    module = import_generated(Path(path))
    model = module.load_model()
    return run_module(module, model, inputs)
