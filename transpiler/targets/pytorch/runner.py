"""Importing and running a generated module (for --check and the tests). Needs torch."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from typing import Any

import numpy as np

_counter = itertools.count()


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


def to_torch(x: Any) -> Any:
    import torch

    if x is None:
        return None
    if isinstance(x, list):
        return [to_torch(t) for t in x]
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind in "US":
        return arr  # strings: PyTorch has no string tensor; generated code keeps numpy arrays of str
    name = arr.dtype.name
    if name == "bfloat16":
        return torch.from_numpy(arr.view(np.uint16).copy()).view(torch.bfloat16)
    if name in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz"):
        return torch.from_numpy(arr.view(np.uint8).copy()).view(getattr(torch, name))
    return torch.from_numpy(np.ascontiguousarray(arr).copy())


def to_numpy(x: Any) -> Any:
    import torch

    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return [to_numpy(t) for t in x]
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.dtype == torch.bfloat16:
            import ml_dtypes

            return x.view(torch.uint16).numpy().view(ml_dtypes.bfloat16)
        if x.dtype in (torch.float8_e4m3fn, torch.float8_e5m2, torch.float8_e4m3fnuz, torch.float8_e5m2fnuz):
            import ml_dtypes

            return x.view(torch.uint8).numpy().view(getattr(ml_dtypes, str(x.dtype).split(".")[-1]))
        return x.numpy()
    if isinstance(x, np.ndarray):
        return x
    return np.asarray(x)


def run_generated(path: Path, inputs: list[Any]) -> list[Any]:
    import torch

    module = import_generated(Path(path))
    model = module.load_model()
    with torch.no_grad():
        out = model(*[to_torch(x) for x in inputs])
    if not isinstance(out, tuple):
        out = (out,)
    return [to_numpy(o) for o in out]
