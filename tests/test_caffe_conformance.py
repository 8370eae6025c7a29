"""ONNX's per-operator node cases through the Caffe target: a guard against wrong answers.

Caffe expresses a small part of ONNX, so most cases are refused; a clean refusal (a
TranspileError naming the reason) is what the target must do then, and it counts as "failed" in
the suite's summary (never as passed). A case the target converts must match ONNX's expected
outputs through OpenCV's Caffe reader (the case's tolerance, at least the target's rtol=1e-3,
atol=1e-4); a mismatch or a crash fails the build.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from transpiler import convert
from transpiler.errors import TranspileError

from .onnx_cases import all_cases, case_names, compare_outputs, op_of

pytest.importorskip("cv2")

SUITE = "onnx node cases through caffe"


@pytest.mark.parametrize("name", case_names())
def test_node_case_caffe(name: str, record_property) -> None:
    from transpiler.targets.caffe import TARGET

    case = all_cases()[name]
    record_property("suite", SUITE)
    record_property("case", name)
    record_property("op", op_of(case))
    record_property("ok", False)
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "net.prototxt"
        try:
            convert(case.model, to="caffe", out=out)
        except TranspileError as e:
            record_property("why", f"refused: {str(e).splitlines()[-1].strip()}")
            assert not out.exists()
            return
        for inputs, expected in case.data_sets:
            with np.errstate(all="ignore"):
                got = TARGET.run(out, list(inputs))
            why = compare_outputs(list(expected), got, max(case.rtol, 1e-3), max(case.atol, 1e-4))
            assert why is None, f"{name}: converted but wrong: {why}"
    record_property("ok", True)
