"""Gathers, scatters and runtime-valued parameters through the Keras target, on shapes and
attributes ONNX's own node cases leave out (rank 3, k > 1 index tuples, batch_dims, negative
indices, reductions, ties), compared with ONNX's reference evaluator on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto as T
from onnx import helper
from onnx.reference import ReferenceEvaluator

from transpiler import convert
from transpiler.errors import UnsupportedModel

from .keras_harness import BACKENDS, run_sets

pytest.importorskip("keras")

ELEM = {np.dtype(np.float32): T.FLOAT, np.dtype(np.int64): T.INT64, np.dtype(np.int32): T.INT32, np.dtype(np.bool_): T.BOOL}
rng = np.random.default_rng(1234)


def _f(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def _i(lo: int, hi: int, *shape: int) -> np.ndarray:
    return rng.integers(lo, hi, shape).astype(np.int64)


def _model(op: str, feeds: dict[str, np.ndarray], outs: list[tuple[int, tuple]], **attrs):
    inputs = [helper.make_tensor_value_info(n, ELEM[a.dtype], a.shape) for n, a in feeds.items()]
    outputs = [helper.make_tensor_value_info(f"y{j}", t, s) for j, (t, s) in enumerate(outs)]
    node = helper.make_node(op, list(feeds), [f"y{j}" for j in range(len(outs))], **attrs)
    graph = helper.make_graph([node], "g", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 24)])


def _cases() -> dict[str, tuple]:
    cases: dict[str, tuple] = {}
    d, u = _f(3, 4, 5), _f(2, 3, 4)
    for red in ("add", "mul", "max", "min"):
        feeds = {"d": d, "i": _i(-5, 5, 2, 3, 4), "u": u}
        cases[f"scatter_elements_axis2_{red}"] = (feeds, [(T.FLOAT, (3, 4, 5))], {"axis": 2, "reduction": red})
    distinct = np.stack([rng.permutation(5)[:4] for _ in range(6)]).reshape(2, 3, 4) - 5  # negative, no duplicates
    cases["scatter_elements_axis2_none"] = ({"d": d, "i": distinct.astype(np.int64), "u": u}, [(T.FLOAT, (3, 4, 5))], {"axis": 2})
    idx = np.array([[[0, -1], [2, 1]], [[0, -1], [1, 0]]], dtype=np.int64)  # duplicates, negative
    for red in ("add", "mul", "max", "min"):
        feeds = {"d": d, "i": idx, "u": _f(2, 2, 5)}
        cases[f"scatternd_k2_{red}"] = (feeds, [(T.FLOAT, (3, 4, 5))], {"reduction": red})
    data = _f(2, 3, 4, 5)
    idx = np.stack([_i(-3, 3, 2, 6), _i(-4, 4, 2, 6)], -1)
    cases["gathernd_batch1_k2"] = ({"d": data, "i": idx}, [(T.FLOAT, (2, 6, 5))], {"batch_dims": 1})
    idx = np.stack([_i(-2, 2, 3, 2), _i(-3, 3, 3, 2), _i(0, 4, 3, 2)], -1)
    cases["gathernd_k3"] = ({"d": data, "i": idx}, [(T.FLOAT, (3, 2, 5))], {})
    cases["gather_elements_rank3_negative"] = ({"d": _f(4, 5, 3), "i": _i(-5, 5, 4, 2, 3)}, [(T.FLOAT, (4, 2, 3))], {"axis": 1})
    cache, upd = _f(2, 6, 3), _f(2, 2, 3)
    cases["tensorscatter_axis1"] = ({"c": cache, "u": upd}, [(T.FLOAT, (2, 6, 3))], {"axis": 1})
    feeds = {"c": cache, "u": upd, "w": np.array([5, 2], dtype=np.int64)}
    cases["tensorscatter_circular_wraps"] = (feeds, [(T.FLOAT, (2, 6, 3))], {"axis": 1, "mode": "circular"})
    feeds = {"x": _f(5, 3, 2), "l": np.array([5, 1, 3], dtype=np.int64)}
    cases["reversesequence_rank3"] = (feeds, [(T.FLOAT, (5, 3, 2))], {"time_axis": 0, "batch_axis": 1})
    feeds = {"x": _f(4, 6), "c": np.array([True, False, True, True, False])}
    cases["compress_short_condition"] = (feeds, [(T.FLOAT, (4, 3))], {"axis": 1})
    ties = rng.integers(-3, 3, (6, 4)).astype(np.int32)
    feeds = {"x": ties, "k": np.array([3], dtype=np.int64)}
    cases["topk_smallest_int_ties"] = (feeds, [(T.INT32, (3, 4)), (T.INT64, (3, 4))], {"axis": 0, "largest": 0})
    x = _f(4, 7)
    x[:, 3] = x[:, 1]
    cases["topk_float_ties"] = ({"x": x, "k": np.array([3], dtype=np.int64)}, [(T.FLOAT, (4, 3)), (T.INT64, (4, 3))], {})
    feeds = {"i": np.array([[1, -1, 7], [0, -4, 3]], dtype=np.int64), "d": np.array(4, dtype=np.int64),
             "v": np.array([2.0, 5.0], dtype=np.float32)}
    cases["onehot_runtime_depth_axis0"] = (feeds, [(T.FLOAT, (4, 2, 3))], {"axis": 0})
    # constants over 16 entries are stored weights (Keras tensors), not literals
    cases["triu_runtime_k_stored_constants"] = ({"x": _f(20, 18), "k": np.array(2, dtype=np.int64)}, [(T.FLOAT, (20, 18))], {"upper": 0})
    feeds = {"d": _f(20, 6), "i": _i(-6, 6, 20, 4), "u": _f(20, 4)}
    cases["scatter_elements_stored_row_starts"] = (feeds, [(T.FLOAT, (20, 6))], {"axis": 1, "reduction": "add"})
    cases["triu_runtime_k_rank3"] = ({"x": _f(2, 3, 5), "k": np.array(-1, dtype=np.int64)}, [(T.FLOAT, (2, 3, 5))], {})
    feeds = {"s": np.array(10, dtype=np.int64), "l": np.array(1, dtype=np.int64), "d": np.array(-3, dtype=np.int64)}
    cases["range_runtime_negative_delta"] = (feeds, [(T.INT64, (3,))], {})
    feeds = {"x": _f(5, 7, 3), "s": np.array([3, 10], dtype=np.int64)}
    cases["centercroppad_axes"] = (feeds, [(T.FLOAT, (3, 10, 3))], {"axes": [0, 1]})
    return cases


CASES = _cases()
OPS = {
    "scatter_elements": "ScatterElements", "scatternd": "ScatterND", "gathernd": "GatherND",
    "gather_elements": "GatherElements", "tensorscatter": "TensorScatter", "reversesequence": "ReverseSequence",
    "compress": "Compress", "topk": "TopK", "onehot": "OneHot", "triu": "Trilu", "range": "Range",
    "centercroppad": "CenterCropPad",
}


def _op(name: str) -> str:
    return next(op for prefix, op in OPS.items() if name.startswith(prefix + "_"))


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("keras-indexing")
    out = {}
    for name, (feeds, outs, attrs) in CASES.items():
        model = _model(_op(name), feeds, outs, **attrs)
        net = root / name / "net.py"
        convert(model, to="keras", out=net)
        out[name] = (net, ReferenceEvaluator(model).run(None, feeds), list(feeds.values()))
    return out


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference(converted, name: str, backend: str) -> None:
    net, expected, inputs = converted[name]
    (got,) = run_sets(backend, net, [inputs])
    for j, (want, have) in enumerate(zip(expected, got)):
        assert have.shape == want.shape and have.dtype == want.dtype, f"output {j}: {have.dtype}{have.shape}"
        if want.dtype.kind == "f":
            np.testing.assert_allclose(have, want, rtol=1e-5, atol=1e-6, err_msg=f"output {j}")
        else:
            np.testing.assert_array_equal(have, want, err_msg=f"output {j}")


def test_runtime_condition_of_unknown_output_length_is_refused(tmp_path) -> None:
    model = _model("Compress", {"x": _f(4, 6), "c": np.ones(6, dtype=np.bool_)}, [(T.FLOAT, (4, None))], axis=1)
    with pytest.raises(UnsupportedModel, match="output length unknown"):
        convert(model, to="keras", out=tmp_path / "net.py")
