"""ONNX's per-operator node cases through the PyTorch target.

Cases the target refuses count as failed. `conformance/pytorch_known_failures.txt` lists the cases
failing today: they are reported as xfailed. Any other failure is a regression and fails the
build. A listed case that passes is reported, so the list can be shrunk.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from transpiler import convert
from transpiler.errors import TranspileError

from .onnx_cases import all_cases, case_names, compare_outputs, known_failures, op_of

torch = pytest.importorskip("torch")

TARGET = "pytorch"
KNOWN = known_failures(TARGET)
SUITE = "onnx node cases through pytorch"


def run_case(name: str) -> str | None:
    """None when the case passes, else the reason."""
    from transpiler.targets.pytorch.runner import import_generated, to_numpy, to_torch

    case = all_cases()[name]
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "net.py"
        try:
            convert(case.model, to=TARGET, out=out)
        except TranspileError as e:
            return f"refused: {str(e).splitlines()[-1].strip()}"
        module = import_generated(out)
        model = module.load_model()
        for inputs, expected in case.data_sets:
            with torch.no_grad():
                got = model(*[to_torch(x) for x in inputs])
            n_out = len(case.model.graph.output)
            got = list(got) if n_out > 1 else [got]
            # the declared element types tell the runner how to read types PyTorch carries in wider ones
            elems = [o.type.tensor_type.elem_type or None for o in case.model.graph.output]
            why = compare_outputs(list(expected), [to_numpy(g, e) for g, e in zip(got, elems)], case.rtol, case.atol)
            if why:
                return why
    return None


@pytest.mark.parametrize("name", case_names())
def test_node_case(name: str, record_property) -> None:
    record_property("suite", SUITE)
    record_property("case", name)
    record_property("op", op_of(all_cases()[name]))
    try:
        with np.errstate(all="ignore"):
            why = run_case(name)
    except Exception as e:  # a crash counts as a failure with its reason
        why = f"crashed: {type(e).__name__}: {' '.join(str(e).split())[:200]}"
    record_property("ok", why is None)
    record_property("why", why or "")
    if why is None:
        if name in KNOWN:
            print(f"{name} now passes: remove it from conformance/{TARGET}_known_failures.txt")
        return
    if name in KNOWN:
        pytest.xfail(f"known failure: {why}")  # reported as xfailed, never as passed
    pytest.fail(f"{name}: {why}")
