"""Per-layer tests of the ncnn target: small one-node ONNX models through the ncnn wheel against
onnxruntime (broadcasting BinaryOp, Permute axis remapping, pooling rounding, asymmetric padding,
Crop / Slice / Concat, Softmax / Reduction axes, InnerProduct, MatMul, LayerNorm, Interp...)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from transpiler import convert
from transpiler.verify import run_onnxruntime

ncnn = pytest.importorskip("ncnn")
RNG = np.random.default_rng(0)


def _model(op: str, in_shapes: list[list[int]], out_rank: int, inits: dict[str, np.ndarray] | None = None, **attrs):
    inits = inits or {}
    names = [f"x{i}" for i in range(len(in_shapes))]
    node = helper.make_node(op, names + list(inits), ["y"], **attrs)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in zip(names, in_shapes)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None] * out_rank)],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _check(model, shapes: list[list[int]]) -> str:
    from transpiler.targets.ncnn.runner import run_ncnn

    inputs = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "net.param"
        convert(model, to="ncnn", out=out)
        param = out.read_text()
        got = run_ncnn(out, inputs)
    ref = run_onnxruntime(model, inputs)
    for g, r in zip(got, ref):
        assert g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-5)
    return param


@pytest.mark.parametrize(
    "a,b",
    [([1, 8, 4, 4], [1, 8, 1, 1]), ([1, 8, 4, 4], [4]), ([1, 3, 5], [1, 1, 5]), ([1, 3, 4], [3, 1]),
     ([1, 2, 3, 4], [1, 1, 3, 1]), ([1, 6], [1, 6]), ([1, 4, 1, 3], [1, 5, 1])],
)
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div", "Max"])
def test_binary_broadcast(op: str, a: list[int], b: list[int]) -> None:
    param = _check(_model(op, [a, b], max(len(a), len(b))), [a, b])
    assert "BinaryOp" in param


def test_binary_scalar_reversed() -> None:
    param = _check(_model("Sub", [[1, 3, 4]], 3, {"c": np.array(2.0, np.float32)}), [[1, 3, 4]])
    assert "BinaryOp" in param and "1=1" in param


@pytest.mark.parametrize(
    "shape,perm",
    [([1, 3, 4, 5], [0, 2, 3, 1]), ([1, 3, 4, 5], [0, 3, 1, 2]), ([1, 2, 3, 4], [0, 3, 2, 1]), ([1, 2, 3, 4, 5], [0, 4, 2, 1, 3]),
     ([1, 4, 1, 6], [0, 3, 2, 1])],
)
def test_transpose_permute(shape: list[int], perm: list[int]) -> None:
    _check(_model("Transpose", [shape], len(shape), perm=perm), [shape])


@pytest.mark.parametrize("ceil", [0, 1])
@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
def test_pool_rounding(op: str, ceil: int) -> None:
    shape = [1, 3, 10, 11]
    param = _check(_model(op, [shape], 4, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 0, 1], ceil_mode=ceil), [shape])
    assert "Pooling" in param and "5=1" in param


def test_conv_asymmetric_padding_and_fused_relu() -> None:
    w = RNG.standard_normal((4, 3, 3, 2)).astype(np.float32)
    model = _model("Conv", [[1, 3, 9, 8]], 4, {"w": w}, pads=[0, 1, 2, 0], strides=[2, 1])
    _check(model, [[1, 3, 9, 8]])


def test_depthwise_conv() -> None:
    w = RNG.standard_normal((6, 1, 3, 3)).astype(np.float32)
    param = _check(_model("Conv", [[1, 6, 7, 7]], 4, {"w": w}, group=6, pads=[1, 1, 1, 1]), [[1, 6, 7, 7]])
    assert "ConvolutionDepthWise" in param


def test_deconvolution() -> None:
    w = RNG.standard_normal((4, 2, 3, 3)).astype(np.float32)
    param = _check(_model("ConvTranspose", [[1, 4, 5, 5]], 4, {"w": w}, strides=[2, 2], pads=[1, 1, 0, 0]), [[1, 4, 5, 5]])
    assert "Deconvolution" in param


@pytest.mark.parametrize("axis", [1, 2, -1])
def test_softmax_axes(axis: int) -> None:
    _check(_model("Softmax", [[1, 3, 4, 5]], 4, axis=axis), [[1, 3, 4, 5]])


@pytest.mark.parametrize("axis", [1, 2, 3])
def test_concat_axes(axis: int) -> None:
    a, b = [1, 2, 3, 4], [1, 2, 3, 4]
    _check(_model("Concat", [a, b], 4, axis=axis), [a, b])


def test_slice_crop() -> None:
    model = _model("Slice", [[1, 6, 8]], 3, {"s": np.array([1, 2], np.int64), "e": np.array([5, -1], np.int64),
                                             "a": np.array([1, 2], np.int64)})
    assert "Crop" in _check(model, [[1, 6, 8]])


def test_reshape_and_flatten() -> None:
    _check(_model("Reshape", [[1, 6, 8]], 4, {"s": np.array([1, 3, 2, 8], np.int64)}), [[1, 6, 8]])
    _check(_model("Flatten", [[1, 2, 3, 4]], 2, axis=1), [[1, 2, 3, 4]])


def test_reduce_mean_keepdims() -> None:
    _check(_model("ReduceMean", [[1, 4, 5, 6]], 4, axes=[2, 3], keepdims=1), [[1, 4, 5, 6]])


def test_gemm_inner_product() -> None:
    w = RNG.standard_normal((5, 7)).astype(np.float32)
    c = RNG.standard_normal((5,)).astype(np.float32)
    assert "InnerProduct" in _check(_model("Gemm", [[1, 7]], 2, {"w": w, "c": c}, transB=1), [[1, 7]])


def test_matmul_batched() -> None:
    _check(_model("MatMul", [[1, 2, 3, 4], [1, 2, 4, 5]], 4), [[1, 2, 3, 4], [1, 2, 4, 5]])


def test_layer_norm() -> None:
    g, b = RNG.standard_normal(8).astype(np.float32), RNG.standard_normal(8).astype(np.float32)
    _check(_model("LayerNormalization", [[1, 5, 8]], 3, {"g": g, "b": b}, axis=-1), [[1, 5, 8]])


def test_resize_nearest() -> None:
    model = _model("Resize", [[1, 2, 3, 4]], 4, {"r": np.zeros(0, np.float32), "s": np.array([1, 1, 2, 2], np.float32)},
                   mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    assert "Interp" in _check(model, [[1, 2, 3, 4]])


def test_refusal_lists_every_node() -> None:
    from transpiler.errors import UnsupportedModel

    model = _model("Slice", [[1, 6, 8]], 3, {"s": np.array([0], np.int64), "e": np.array([6], np.int64),
                                             "a": np.array([1], np.int64), "t": np.array([2], np.int64)})
    with tempfile.TemporaryDirectory() as d:
        with pytest.raises(UnsupportedModel, match="step 2"):
            convert(model, to="ncnn", out=Path(d) / "o" / "net.param")
        assert not (Path(d) / "o").exists()


def _graph(nodes, inputs: dict[str, list[int]], outputs: dict[str, int], inits: dict[str, np.ndarray] | None = None):
    """A model of several nodes; `outputs` maps each output name to its rank."""
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [None] * r) for n, r in outputs.items()],
        [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("exponent", [2.0, 3.0, 5.0, -2.0, 0.0, 1.0])
def test_pow_integer_exponent_negative_base(exponent: float) -> None:
    # ncnn's pow is exp(y * log(x)): wrong for x < 0, so integer exponents are multiplications
    param = _check(_model("Pow", [[1, 3, 4]], 3, {"e": np.array(exponent, np.float32)}), [[1, 3, 4]])
    assert not any(line.startswith("BinaryOp") and " 0=6" in line for line in param.splitlines())  # no POW


def _qkv_nodes(pick: str) -> tuple[list, list[str], dict[str, np.ndarray]]:
    """x (1, 4, 6, 24) -> Reshape (4, 6, 3, 2, 4): five real dims, more than ncnn holds ->
    Transpose (3, 4, 2, 6, 4) -> q, k, v picked along axis 0 (the attention unbind)."""
    inits = {"shape": np.array([4, 6, 3, 2, 4], np.int64)}
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["r"]),
        helper.make_node("Transpose", ["r"], ["t"], perm=[2, 0, 3, 1, 4]),
    ]
    outs = ["q", "k", "v"]
    if pick == "split":
        inits["sizes"] = np.array([1, 1, 1], np.int64)
        inits["axes"] = np.array([0], np.int64)
        nodes.append(helper.make_node("Split", ["t", "sizes"], ["s0", "s1", "s2"], axis=0))
        nodes += [helper.make_node("Squeeze", [f"s{i}", "axes"], [o]) for i, o in enumerate(outs)]
    elif pick == "gather":
        for i, o in enumerate(outs):
            inits[f"i{i}"] = np.array(i, np.int64)
            nodes.append(helper.make_node("Gather", ["t", f"i{i}"], [o], axis=0))
    else:
        for i, o in enumerate(outs):
            inits[f"b{i}"], inits[f"e{i}"] = np.array([i], np.int64), np.array([i + 1], np.int64)
            inits["a0"] = np.array([0], np.int64)
            nodes.append(helper.make_node("Slice", ["t", f"b{i}", f"e{i}", "a0"], [o]))
    return nodes, outs, inits


@pytest.mark.parametrize("pick", ["split", "gather", "slice"])
def test_five_dim_attention_unbind(pick: str) -> None:
    nodes, outs, inits = _qkv_nodes(pick)
    rank = 5 if pick == "slice" else 4
    param = _check(_graph(nodes, {"x": [1, 4, 6, 24]}, dict.fromkeys(outs, rank), inits), [[1, 4, 6, 24]])
    assert param.count("Permute") == 3


def test_five_dim_transpose_without_picks_is_refused() -> None:
    from transpiler.errors import UnsupportedModel

    nodes, _, inits = _qkv_nodes("split")
    model = _graph(nodes[:2], {"x": [1, 4, 6, 24]}, {"t": 5}, {"shape": inits["shape"]})
    with tempfile.TemporaryDirectory() as d, pytest.raises(UnsupportedModel, match="at most 4"):
        convert(model, to="ncnn", out=Path(d) / "net.param")


def test_crop_concat_reduce_past_a_dropped_middle_axis() -> None:
    # (3, 1, 3, 4, 5): ncnn holds it as (3, 3, 4, 5), dropping axis 1, not the leading one
    inits = {"b": np.array([1], np.int64), "e": np.array([3], np.int64), "a": np.array([0], np.int64),
             "ra": np.array([2], np.int64)}
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[1, 0, 2, 3, 4]),
        helper.make_node("Slice", ["t", "b", "e", "a"], ["s"]),
        helper.make_node("Concat", ["t", "s"], ["c"], axis=0),
        helper.make_node("ReduceSum", ["c", "ra"], ["y"], keepdims=1),
    ]
    _check(_graph(nodes, {"x": [1, 3, 3, 4, 5]}, {"s": 5, "c": 5, "y": 5}, inits), [[1, 3, 3, 4, 5]])


@pytest.mark.parametrize("op", ["Max", "Min", "Sum"])
def test_variadic_three_inputs(op: str) -> None:
    shapes = [[1, 2, 5, 5], [1, 5], [1, 1, 1, 1]]
    param = _check(_model(op, shapes, 4), shapes)
    assert sum(line.startswith("BinaryOp ") for line in param.splitlines()) == 2


def test_output_also_read_in_place() -> None:
    # v is an output and the input of an in-place layer: it is extracted from a Split branch of
    # its own, so the layer cannot overwrite it
    nodes = [
        helper.make_node("Add", ["x", "w"], ["v"]),
        helper.make_node("Atan", ["v"], ["y"]),
    ]
    model = _graph(nodes, {"x": [5]}, {"y": 2, "v": 2}, {"w": RNG.standard_normal((2, 5)).astype(np.float32)})
    assert "Split" in _check(model, [[5]])


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
@pytest.mark.parametrize("shape,pads", [([1, 3, 6, 7], [0, 0, 1, 2, 0, 0, 2, 1]), ([1, 5, 6], [0, 0, 2, 0, 1, 3]),
                                        ([7], [2, 3])])
def test_pad_modes(mode: str, shape: list[int], pads: list[int]) -> None:
    inits = {"p": np.array(pads, np.int64)}
    if mode == "constant":
        inits["v"] = np.array(1.5, np.float32)
    assert "Padding" in _check(_model("Pad", [shape], len(shape), inits, mode=mode), [shape])


def test_pad_channels_refused() -> None:
    from transpiler.errors import UnsupportedModel

    model = _model("Pad", [[1, 3, 4, 4]], 4, {"p": np.array([0, 1, 0, 0, 0, 1, 0, 0], np.int64)})
    with tempfile.TemporaryDirectory() as d, pytest.raises(UnsupportedModel, match="two innermost"):
        convert(model, to="ncnn", out=Path(d) / "net.param")
