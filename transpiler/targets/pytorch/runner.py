"""Importing and running a generated module (for --check and the tests). Needs torch.

Element types PyTorch has no tensor for are carried exactly in a wider dtype by generated code,
one value per element (see ops/cast.py):

    int4, int2               -> torch.int8     (the value itself, -8..7 / -2..1)
    uint4, uint2             -> torch.uint8    (0..15 / 0..3)
    float4e2m1               -> torch.float32  (every e2m1 value is exact in float32)
    float8e8m0               -> torch.float8_e8m0fnu (native)
    string                   -> a numpy array of Python str (dtype object)

`to_torch` turns numpy inputs (ml_dtypes arrays for the types numpy lacks) into those tensors;
`to_numpy(x, elem)` turns an output back, given the ONNX element type the graph declares.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from typing import Any

import numpy as np

_counter = itertools.count()

# ml_dtypes name -> numpy dtype of its carrier (types PyTorch has no tensor for)
CARRIERS = {
    "int4": np.int8, "int2": np.int8, "uint4": np.uint8, "uint2": np.uint8, "float4_e2m1fn": np.float32,
}
# ONNX element type -> ml_dtypes name, for the carried types
_CARRIED_ELEMS = {22: "int4", 26: "int2", 21: "uint4", 25: "uint2", 23: "float4_e2m1fn"}
# dtypes torch holds natively, moved as raw bytes (numpy has no such types without ml_dtypes)
_BYTE_VIEWS = {
    "bfloat16": np.uint16, "float8_e4m3fn": np.uint8, "float8_e5m2": np.uint8, "float8_e4m3fnuz": np.uint8,
    "float8_e5m2fnuz": np.uint8, "float8_e8m0fnu": np.uint8,
}


def import_generated(path: Path) -> Any:
    """Import a generated file fresh, under a unique module name, without writing __pycache__."""
    name = f"_transpiled_{next(_counter)}"
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


def carrier_array(arr: np.ndarray) -> np.ndarray:
    """The numpy array generated code holds `arr` as: int4 -> int8, float4e2m1 -> float32, ...;
    any other array unchanged."""
    carrier = CARRIERS.get(arr.dtype.name)
    return arr if carrier is None else arr.astype(carrier)


def to_torch(x: Any) -> Any:
    import torch

    if x is None:
        return None
    if isinstance(x, list):
        return [to_torch(t) for t in x]
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind in "US":
        return arr  # strings: PyTorch has no string tensor; generated code keeps numpy arrays of str
    arr = carrier_array(arr)
    name = arr.dtype.name
    if name in _BYTE_VIEWS:
        return torch.from_numpy(arr.view(_BYTE_VIEWS[name]).copy()).view(getattr(torch, name))
    return torch.from_numpy(np.array(arr, order="C"))  # a copy; keeps 0-d arrays 0-d (ascontiguousarray does not)


def to_numpy(x: Any, elem: int | None = None) -> Any:
    """A generated model's output as numpy; `elem` (the ONNX element type the graph declares)
    turns a carrier back into its type, e.g. int8 values of an int4 output into ml_dtypes.int4."""
    import torch

    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return [to_numpy(t, elem) for t in x]
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        name = str(x.dtype).split(".")[-1]
        if name in _BYTE_VIEWS:
            import ml_dtypes

            x = x.view(getattr(torch, np.dtype(_BYTE_VIEWS[name]).name)).numpy().view(getattr(ml_dtypes, name))
        else:
            x = x.numpy()
    elif not isinstance(x, np.ndarray):
        x = np.asarray(x)
    return _from_carrier(x, elem)


def _from_carrier(arr: np.ndarray, elem: int | None) -> np.ndarray:
    name = _CARRIED_ELEMS.get(elem or 0)
    if name is None or arr.dtype != CARRIERS[name]:
        return arr  # not a carried type (a wrong dtype is left for the comparison to report)
    import ml_dtypes

    target = getattr(ml_dtypes, name)
    out = arr.astype(target)
    back = out.astype(arr.dtype)
    if not np.array_equal(back, arr, equal_nan=False):
        raise ValueError(f"values outside {name} in its {arr.dtype} carrier")
    return out


def run_generated(path: Path, inputs: list[Any]) -> list[Any]:
    import torch

    module = import_generated(Path(path))
    model = module.load_model()
    with torch.no_grad():
        out = model(*[to_torch(x) for x in inputs])
    if not isinstance(out, tuple):
        out = (out,)
    return [to_numpy(o) for o in out]
