"""ONNX's per-operator node cases through the Keras target, per backend.

CI runs every case on one backend (FULL_BACKEND) and a fixed sample (every 4th case by name,
>= 300 cases) on the other two; KERAS_ALL_BACKENDS=1 runs every case on all three. The summary
prints `passed N, failed N` per backend. Cases the target refuses count as failed.
`conformance/keras_known_failures.txt` (all backends) and `keras_<backend>_known_failures.txt`
list the cases failing today, reported as xfailed with their reason; any other failure fails the
build, and a listed case that passes is reported so the list can be shrunk.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from transpiler import convert
from transpiler.errors import TranspileError

from .keras_harness import BACKENDS, run_sets
from .onnx_cases import all_cases, case_names, compare_outputs, known_failures, op_of

pytest.importorskip("keras")

FULL_BACKEND = os.environ.get("KERAS_FULL_BACKEND", "jax")
ALL_BACKENDS = os.environ.get("KERAS_ALL_BACKENDS", "") == "1"
NAMES = case_names()
SAMPLE = frozenset(NAMES[::4])
KNOWN = {b: known_failures("keras") | known_failures(f"keras_{b}") for b in BACKENDS}
_root = Path(tempfile.mkdtemp(prefix="keras-cases-"))
atexit.register(shutil.rmtree, _root, True)
_converted: dict[str, Path | str] = {}


def _params() -> list[tuple[str, str]]:
    return [
        (name, b) for name in NAMES for b in BACKENDS
        if ALL_BACKENDS or b == FULL_BACKEND or name in SAMPLE
    ]


def converted(name: str) -> Path | str:
    """The generated file for a case (converted once per test process), or why it was refused."""
    if name not in _converted:
        out = _root / name / "net.py"
        try:
            convert(all_cases()[name].model, to="keras", out=out)
            _converted[name] = out
        except TranspileError as e:
            _converted[name] = f"refused: {str(e).splitlines()[-1].strip()}"
    return _converted[name]


def run_case(name: str, backend: str) -> str | None:
    """None when the case passes on `backend`, else the reason."""
    case = all_cases()[name]
    net = converted(name)
    if isinstance(net, str):
        return net
    sets = [list(inputs) for inputs, _ in case.data_sets]
    results = run_sets(backend, net, sets)
    for (_, expected), got in zip(case.data_sets, results):
        why = compare_outputs(list(expected), got, case.rtol, case.atol)
        if why:
            return why
    return None


@pytest.mark.parametrize("name,backend", _params())
def test_keras_node_case(name: str, backend: str, record_property) -> None:
    record_property("suite", f"onnx node cases through keras ({backend})")
    record_property("case", name)
    record_property("op", op_of(all_cases()[name]))
    try:
        with np.errstate(all="ignore"):
            why = run_case(name, backend)
    except Exception as e:  # a crash counts as a failure with its reason
        why = f"crashed: {type(e).__name__}: {' '.join(str(e).split())[:200]}"
    record_property("ok", why is None)
    record_property("why", why or "")
    known = KNOWN[backend]
    if why is None:
        if name in known:
            print(f"{name} now passes on {backend}: remove it from the keras known failures")
        return
    if name in known:
        pytest.xfail(f"known failure: {why}")  # reported as xfailed, never as passed
    pytest.fail(f"{name} on {backend}: {why}")
