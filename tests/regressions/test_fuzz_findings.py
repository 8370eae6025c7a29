"""Minimised findings of the differential fuzzer (tests/fuzz_graphs.py), one small model each.

Each is transpiled for every target that imports and compared with onnxruntime; a target may
refuse a model (UnsupportedModel), PyTorch must convert all of them. The docstring of each builder
says what was wrong and where it was fixed.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from transpiler import targets

from ..fuzz_graphs import FuzzCase, check_case, run_onnxruntime

FINDINGS = {}


def finding(fn):
    FINDINGS[fn.__name__] = fn
    return fn


def _model(nodes, inputs, outputs, inits=(), opset=18) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "regression", inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model


def _f(name: str, shape) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _c(arr, name: str) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(arr), name)


@finding
def tile_of_scalar() -> onnx.ModelProto:
    """Tile of a 0-d tensor (empty repeats) became `x.repeat()`, which PyTorch rejects
    (fuzz seed 44; fixed in pytorch/ops/tensor.py)."""
    nodes = [helper.make_node("Tile", ["x", "r"], ["y"])]
    return _model(nodes, [_f("x", [])], [_f("y", [])], [_c(np.zeros(0, np.int64), "r")])


@finding
def instance_norm_one_spatial_element() -> onnx.ModelProto:
    """InstanceNormalization over a single spatial element: PyTorch's instance (and group) norm
    refuse it in eval mode; the result is exactly the bias (fuzz seeds 141, 937; pytorch/ops/norm.py)."""
    nodes = [helper.make_node("InstanceNormalization", ["x", "s", "b"], ["y"])]
    inits = [_c(np.array([1.3, 0.7], np.float32), "s"), _c(np.array([0.25, -2.0], np.float32), "b")]
    return _model(nodes, [_f("x", [1, 2, 1, 1])], [_f("y", [1, 2, 1, 1])], inits)


@finding
def space_to_depth_and_back() -> onnx.ModelProto:
    """SpaceToDepth / DepthToSpace had no PyTorch lowering (fuzz seed 126; pytorch/ops/tensor.py)."""
    nodes = [
        helper.make_node("SpaceToDepth", ["x"], ["s"], blocksize=2),
        helper.make_node("DepthToSpace", ["s"], ["y"], blocksize=2, mode="DCR"),
        helper.make_node("DepthToSpace", ["s"], ["z"], blocksize=2, mode="CRD"),
    ]
    return _model(nodes, [_f("x", [1, 3, 4, 6])], [_f("s", [1, 12, 2, 3]), _f("y", [1, 3, 4, 6]), _f("z", [1, 3, 4, 6])])


@finding
def slice_constant_reverse_to_int64_min() -> onnx.ModelProto:
    """A constant folded by ONNX's reference Slice, which gets ends=INT64_MIN with step -1 wrong
    (shape (0, 6) instead of (1, 6)); fold.py now slices by the spec itself (fuzz seed 880)."""
    inits = [
        _c(np.arange(42, dtype=np.float32).reshape(7, 6), "w"), _c(np.array([-8], np.int64), "s"),
        _c(np.array([np.iinfo(np.int64).min], np.int64), "e"), _c(np.array([0], np.int64), "a"),
        _c(np.array([-1], np.int64), "t"),
    ]
    nodes = [helper.make_node("Slice", ["w", "s", "e", "a", "t"], ["c"]), helper.make_node("Add", ["c", "x"], ["y"])]
    return _model(nodes, [_f("x", [1, 6])], [_f("y", [1, 6])], inits)


@finding
def global_max_pool_of_constant() -> onnx.ModelProto:
    """A constant folded by ONNX's reference GlobalMaxPool, which drops a dim for rank-3 inputs;
    fold.py now keeps a node whose result contradicts shape inference (fuzz seed 898)."""
    w = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 1, 4)
    nodes = [helper.make_node("GlobalMaxPool", ["w"], ["g"]), helper.make_node("Add", ["g", "x"], ["y"])]
    return _model(nodes, [_f("x", [3, 1, 1])], [_f("y", [3, 1, 1])], [_c(w, "w")])


@finding
def conv_transpose_same_stride_above_kernel() -> onnx.ModelProto:
    """ConvTranspose with SAME padding where stride exceeds the kernel: the total padding is
    negative, which onnxruntime clamps to 0 (13 rows), while the lowering grew output_padding
    (14 rows) (fuzz seed 1976; pytorch/ops/conv.py)."""
    w = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 1, 1, 3)
    nodes = [helper.make_node("ConvTranspose", ["x", "w"], ["y"], auto_pad="SAME_LOWER", kernel_shape=[1, 3],
                              strides=[2, 2])]
    return _model(nodes, [_f("x", [1, 4, 7, 5])], [_f("y", [1, 1, 13, 10])], [_c(w, "w")], opset=17)


@finding
def max_pool_of_constant_ceil_mode() -> onnx.ModelProto:
    """A constant folded by ONNX's reference MaxPool, wrong with ceil_mode=1 and a begin pad
    (same shape, other values); pooling and convolution are no longer folded (fuzz seed 2232)."""
    w = np.sin(np.arange(30, dtype=np.float32)).reshape(1, 6, 5) * 2
    nodes = [helper.make_node("MaxPool", ["w"], ["p"], ceil_mode=1, kernel_shape=[2], pads=[1, 0]),
             helper.make_node("Add", ["p", "x"], ["y"])]
    return _model(nodes, [_f("x", [1, 6, 5])], [_f("y", [1, 6, 5])], [_c(w, "w")])


@finding
def transpose_then_matmul_vector() -> onnx.ModelProto:
    """Not our bug: onnxruntime 1.32's graph optimisations drop the Transpose before a MatMul with
    a 1-D right operand (fuzz seed 1003727). The fuzzer's oracle now runs onnxruntime unoptimised;
    this keeps the generated code on the model's meaning."""
    nodes = [helper.make_node("Transpose", ["a"], ["t"], perm=[1, 0]), helper.make_node("MatMul", ["t", "v"], ["y"])]
    return _model(nodes, [_f("a", [6, 6]), _f("v", [6])], [_f("y", [6])])


def test_pooling_window_larger_than_input_is_refused(tmp_path) -> None:
    """A dilated window longer than the padded input: the spec's formula gives no output, ONNX
    shape inference and onnxruntime one; PyTorch must refuse rather than pick (fuzz seed 1000613)."""
    from transpiler import convert
    from transpiler.errors import UnsupportedModel

    nodes = [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], dilations=[2, 1], strides=[2, 2])]
    model = _model(nodes, [_f("x", [4, 1, 2, 2])], [_f("y", [4, 1, 1, 1])], opset=17)
    with pytest.raises(UnsupportedModel, match="pooling window is larger"):
        convert(model, to="pytorch", out=tmp_path / "net.py")
    assert not (tmp_path / "net.py").exists()


def target_or_skip(name: str):
    try:
        return targets.get(name)
    except ImportError as e:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"target {name!r} is registered but does not import: {e}")
        pytest.skip(f"target {name!r} does not import yet: {e}")


@pytest.mark.parametrize("target", targets.names())
@pytest.mark.parametrize("name", sorted(FINDINGS))
def test_fuzz_finding(name: str, target: str) -> None:
    target_or_skip(target)
    model = FINDINGS[name]()
    rng = np.random.default_rng(0)
    inputs = [
        rng.standard_normal([d.dim_value for d in vi.type.tensor_type.shape.dim]).astype(np.float32)
        for vi in model.graph.input
    ]
    case = FuzzCase(0, model, inputs, run_onnxruntime(model, inputs), [n.op_type for n in model.graph.node])
    with tempfile.TemporaryDirectory() as d:
        outcome = check_case(case, target, d)
    if outcome.kind == "refused" and target != "pytorch":
        pytest.skip(f"{target} refuses it: {outcome.detail[:200]}")
    assert outcome.kind == "ok", f"{outcome.kind}: {outcome.detail}"


def test_negative_axes_before_opset_11_are_refused() -> None:
    """Unsqueeze/Squeeze/Reduce* `axes` < 0 only exist since opset 11; before, ONNX's shape
    inference and onnxruntime read them differently (fuzz seeds 5815, 6559): a clean refusal."""
    from transpiler import ir
    from transpiler.errors import InvalidModel
    from transpiler.frontends import onnx_canon

    def node() -> ir.Node:
        return ir.Node("Unsqueeze", [ir.Value("x")], [ir.Value("y")], {"axes": [-2]}, name="u")

    with pytest.raises(InvalidModel, match="negative axes"):
        onnx_canon.canonicalise(node(), 9, ir.Graph())
    assert [n.op_type for n in onnx_canon.canonicalise(node(), 11, ir.Graph())] == ["Unsqueeze"]
