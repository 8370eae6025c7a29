"""Caffe target, one layer mapping at a time: each small model converts, its prototxt holds the
expected layers, and OpenCV's Caffe reader computes what onnxruntime computes. The padding and
rounding traps (Caffe pools round up, pads symmetrically, counts padding in averages; Gemm's
transB) each have their own cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import helper

from .caffe_cases import convert_and_compare, layer_types, model, one, weights

pytest.importorskip("cv2")

W = weights
CASES = {
    # -- convolution -------------------------------------------------------------------------
    "conv": (one("Conv", [1, 3, 9, 9], {"w": W(4, 3, 3, 3), "b": W(4)}, extra_inputs=["w", "b"], pads=[1, 1, 1, 1]),
             ["Convolution"]),
    "conv_no_bias_stride": (one("Conv", [1, 3, 10, 10], {"w": W(4, 3, 3, 3)}, extra_inputs=["w"], strides=[2, 2]),
                            ["Convolution"]),
    "conv_groups_dilation": (one("Conv", [1, 4, 11, 11], {"w": W(8, 2, 3, 3)}, extra_inputs=["w"], group=2,
                                 dilations=[2, 2], pads=[2, 2, 2, 2]), ["Convolution"]),
    "conv_depthwise_rect": (one("Conv", [1, 4, 9, 12], {"w": W(4, 1, 3, 5)}, extra_inputs=["w"], group=4,
                                pads=[1, 2, 1, 2], strides=[1, 2]), ["Convolution"]),
    # asymmetric pads: symmetric pad + Slice of the extra rows/columns
    "conv_asymmetric_pads": (one("Conv", [1, 2, 8, 8], {"w": W(3, 2, 3, 3)}, extra_inputs=["w"], pads=[0, 0, 2, 2]),
                             ["Convolution", "Slice"]),
    "conv_same_upper_stride2": (one("Conv", [1, 2, 8, 8], {"w": W(3, 2, 3, 3)}, extra_inputs=["w"], strides=[2, 2],
                                    auto_pad="SAME_UPPER"), ["Convolution", "Slice"]),
    "conv_transpose": (one("ConvTranspose", [1, 4, 5, 5], {"w": W(4, 3, 3, 3), "b": W(3)}, extra_inputs=["w", "b"],
                           strides=[2, 2], pads=[1, 1, 1, 1]), ["Deconvolution"]),
    "conv_transpose_output_padding": (one("ConvTranspose", [1, 4, 5, 5], {"w": W(4, 2, 3, 3)}, extra_inputs=["w"],
                                          strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
                                      ["Deconvolution", "Slice"]),
    # -- pooling -----------------------------------------------------------------------------
    # ONNX rounds down (56 windows), Caffe up (57): the last window is sliced off
    "maxpool_floor_vs_ceil": (one("MaxPool", [1, 2, 112, 112], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
                              ["Pooling", "Slice"]),
    "maxpool_ceil_mode": (one("MaxPool", [1, 2, 13, 13], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1), ["Pooling"]),
    "maxpool_ceil_mode_pad": (one("MaxPool", [1, 2, 14, 14], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                                  ceil_mode=1), ["Pooling"]),
    "maxpool_asymmetric_pads": (one("MaxPool", [1, 2, 10, 10], kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1]),
                                ["Pooling"]),
    # count_include_pad=0 (ONNX default) vs Caffe counting the padding: a constant divisor map
    "avgpool_pad_excluded": (one("AveragePool", [1, 2, 9, 9], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
                             ["Pooling", "Scale"]),
    "avgpool_pad_included": (one("AveragePool", [1, 2, 9, 9], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                                 count_include_pad=1), ["Pooling"]),
    "avgpool_ceil_pad_included": (one("AveragePool", [1, 2, 10, 10], kernel_shape=[3, 3], strides=[2, 2],
                                      pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1), ["Pooling"]),
    "avgpool_ceil_pad_excluded": (one("AveragePool", [1, 2, 10, 10], kernel_shape=[3, 3], strides=[2, 2],
                                      pads=[1, 1, 1, 1], ceil_mode=1), ["Pooling", "Scale"]),
    "avgpool_floor_crop_excluded": (one("AveragePool", [1, 2, 8, 8], kernel_shape=[3, 3], strides=[2, 2],
                                        pads=[1, 1, 1, 1]), ["Pooling", "Slice", "Scale"]),
    "avgpool_asymmetric_pads": (one("AveragePool", [1, 2, 8, 8], kernel_shape=[2, 2], pads=[1, 1, 0, 0]),
                                ["Pooling", "Slice", "Scale"]),
    "avgpool_no_pad": (one("AveragePool", [1, 2, 8, 8], kernel_shape=[2, 2], strides=[2, 2]), ["Pooling"]),
    "global_avgpool": (one("GlobalAveragePool", [1, 3, 5, 7]), ["Pooling"]),
    "global_maxpool": (one("GlobalMaxPool", [1, 3, 5, 7]), ["Pooling"]),
    "reduce_mean_spatial": (one("ReduceMean", [1, 3, 5, 7], {"axes": np.array([2, 3])}, extra_inputs=["axes"],
                                keepdims=0), ["Pooling", "Flatten"]),
    # -- inner product -------------------------------------------------------------------------
    "gemm_transB": (one("Gemm", [2, 6], {"b": W(5, 6), "c": W(5)}, extra_inputs=["b", "c"], transB=1),
                    ["InnerProduct"]),
    "gemm_no_transB": (one("Gemm", [2, 6], {"b": W(6, 5), "c": W(5)}, extra_inputs=["b", "c"]), ["InnerProduct"]),
    "gemm_alpha_beta": (one("Gemm", [2, 6], {"b": W(5, 6), "c": W(1, 5)}, extra_inputs=["b", "c"], transB=1,
                            alpha=0.5, beta=2.0), ["InnerProduct"]),
    "gemm_no_bias": (one("Gemm", [2, 6], {"b": W(6, 5)}, extra_inputs=["b"]), ["InnerProduct"]),
    "matmul_const": (one("MatMul", [2, 3, 6], {"b": W(6, 4)}, extra_inputs=["b"]), ["InnerProduct"]),
    # -- normalisation -------------------------------------------------------------------------
    "batchnorm": (one("BatchNormalization", [1, 3, 4, 4],
                      {"s": W(3), "b": W(3), "m": W(3), "v": np.abs(W(3)) + 0.5}, extra_inputs=["s", "b", "m", "v"],
                      epsilon=1e-3), ["BatchNorm", "Scale"]),
    # -- activations ---------------------------------------------------------------------------
    "relu": (one("Relu", [1, 3, 4, 4]), ["ReLU"]),
    "leaky_relu": (one("LeakyRelu", [1, 3, 4, 4], alpha=0.2), ["ReLU"]),
    "prelu": (one("PRelu", [1, 3, 4, 4], {"s": W(3, 1, 1)}, extra_inputs=["s"]), ["PReLU"]),
    "sigmoid": (one("Sigmoid", [1, 3, 4, 4]), ["Sigmoid"]),
    "tanh": (one("Tanh", [1, 3, 4, 4]), ["TanH"]),
    "elu": (one("Elu", [1, 3, 4, 4], alpha=0.5), ["ELU"]),
    "hardswish": (one("HardSwish", [1, 3, 4, 4]), ["HardSwish"]),
    "mish": (one("Mish", [1, 3, 4, 4]), ["Mish"]),
    "gelu": (one("Gelu", [1, 3, 4, 4], opset=20), ["Gelu"]),
    "relu6": (one("Clip", [1, 3, 4, 4], {"lo": np.float32(0), "hi": np.float32(6)}, extra_inputs=["lo", "hi"]),
              ["ReLU6"]),
    "softmax_axis1": (one("Softmax", [2, 5], axis=1), ["Softmax"]),
    "softmax_last_axis_4d": (one("Softmax", [1, 3, 4, 5]), ["Softmax"]),
    "exp": (one("Exp", [1, 3, 4, 4]), ["Exp"]),
    "abs": (one("Abs", [1, 3, 4, 4]), ["AbsVal"]),
    "softplus": (one("Softplus", [1, 3, 4, 4]), ["BNLL"]),
    "neg": (one("Neg", [1, 3, 4, 4]), ["Power"]),
    "sqrt": (one("Sqrt", [1, 3, 4, 4]), ["Power"]),
    "reciprocal": (one("Reciprocal", [1, 3, 4, 4]), ["Power"]),
    "selu": (one("Selu", [1, 3, 4, 4]), ["ELU", "Power"]),
    # -- arithmetic ----------------------------------------------------------------------------
    "add_scalar": (one("Add", [1, 3, 4, 4], {"c": np.float32(1.5)}, extra_inputs=["c"]), ["Power"]),
    "mul_scalar": (one("Mul", [1, 3, 4, 4], {"c": np.float32(-2.0)}, extra_inputs=["c"]), ["Power"]),
    "div_scalar": (one("Div", [1, 3, 4, 4], {"c": np.float32(4.0)}, extra_inputs=["c"]), ["Power"]),
    "sub_scalar": (one("Sub", [1, 3, 4, 4], {"c": np.float32(0.25)}, extra_inputs=["c"]), ["Power"]),
    "mul_per_channel": (one("Mul", [1, 3, 4, 4], {"c": W(3, 1, 1)}, extra_inputs=["c"]), ["Scale"]),
    "add_per_channel": (one("Add", [1, 3, 4, 4], {"c": W(1, 3, 1, 1)}, extra_inputs=["c"]), ["Scale"]),
    "mul_spatial_map": (one("Mul", [1, 3, 4, 5], {"c": W(4, 5)}, extra_inputs=["c"]), ["Scale"]),
    "pow": (one("Pow", [1, 3, 4, 4], {"p": np.float32(2.0)}, extra_inputs=["p"]), ["Power"]),
    "mul_const_broadcast_inside": (one("Mul", [1, 3, 4, 5, 2], {"c": W(1, 3, 1, 1, 2)}, extra_inputs=["c"]), ["Scale"]),
    "hard_sigmoid": (one("HardSigmoid", [1, 3, 4, 4], alpha=1 / 6, beta=0.5), ["Power", "ReLU6"]),
    # -- resize: whole-factor upsampling as a fixed transposed convolution -----------------------
    "resize_nearest_asymmetric": (one("Resize", [1, 3, 4, 5], {"sc": np.array([1, 1, 2, 3], np.float32)},
                                      extra_inputs=["", "sc"], mode="nearest", coordinate_transformation_mode="asymmetric",
                                      nearest_mode="floor"), ["Deconvolution"]),
    "resize_nearest_half_pixel": (one("Resize", [1, 3, 4, 5], {"sc": np.array([1, 1, 2, 2], np.float32)},
                                      extra_inputs=["", "sc"], mode="nearest"), ["Deconvolution"]),
    "resize_bilinear_half_pixel": (one("Resize", [1, 3, 5, 6], {"sc": np.array([1, 1, 2, 4], np.float32)},
                                       extra_inputs=["", "sc"], mode="linear"), ["Concat", "Deconvolution", "Slice"]),
    "resize_bilinear_sizes_x3": (one("Resize", [1, 2, 3, 4], {"sz": np.array([1, 2, 9, 12])},
                                     extra_inputs=["", "", "sz"], mode="linear"), ["Deconvolution"]),
    "resize_bilinear_asymmetric": (one("Resize", [1, 2, 4, 4], {"sc": np.array([1, 1, 2, 2], np.float32)},
                                       extra_inputs=["", "sc"], mode="linear", coordinate_transformation_mode="asymmetric"),
                                   ["Deconvolution"]),
    # -- layout --------------------------------------------------------------------------------
    "flatten": (one("Flatten", [1, 3, 4, 4]), ["Flatten"]),
    "flatten_axis2": (one("Flatten", [2, 3, 4, 4], axis=2), ["Reshape"]),
    "reshape": (one("Reshape", [1, 3, 4, 4], {"s": np.array([0, 12, -1])}, extra_inputs=["s"]), ["Reshape"]),
    "transpose": (one("Transpose", [1, 3, 4, 5], perm=[0, 2, 3, 1]), ["Permute"]),
    "unsqueeze": (one("Unsqueeze", [1, 3, 4], {"a": np.array([1])}, extra_inputs=["a"]), ["Reshape"]),
    "unsqueeze_trailing_6d": (one("Unsqueeze", [2, 1, 7, 5], {"a": np.array([4, 5])}, extra_inputs=["a"]), ["Reshape"]),
    "slice_channels": (one("Slice", [1, 6, 4, 4], {"s": np.array([2]), "e": np.array([5]), "a": np.array([1])},
                           extra_inputs=["s", "e", "a"]), ["Slice"]),
    "slice_two_axes": (one("Slice", [1, 6, 5, 5], {"s": np.array([1, 0]), "e": np.array([4, -1]),
                                                   "a": np.array([2, 3])}, extra_inputs=["s", "e", "a"]),
                       ["Slice"]),
}


def _multi_input_cases() -> dict:
    x = {"x": [1, 3, 4, 4], "z": [1, 3, 4, 4]}
    cases = {}
    for op, kind in (("Add", "Eltwise"), ("Sub", "Eltwise"), ("Mul", "Eltwise"), ("Max", "Eltwise"), ("Min", "Eltwise"),
                     ("Mean", "Eltwise")):
        cases[f"eltwise_{op.lower()}"] = (model([helper.make_node(op, ["x", "z"], ["y"], name=op)], x, {"y": None}),
                                         [kind])
    cases["mean_of_three"] = (model([helper.make_node("Mean", ["x", "z", "u"], ["y"], name="mean")],
                                    {**x, "u": [1, 3, 4, 4]}, {"y": None}), ["Eltwise"])
    # a squeeze-excitation gate: (N, C, H, W) * (N, C, 1, 1)
    cases["mul_gate_broadcast"] = (model([helper.make_node("Mul", ["x", "g"], ["y"], name="se")],
                                         {"x": [2, 3, 4, 4], "g": [2, 3, 1, 1]}, {"y": None}), ["Reshape", "Scale"])
    cases["concat"] = (model([helper.make_node("Concat", ["x", "z"], ["y"], axis=1, name="cat")], x, {"y": None}),
                       ["Concat"])
    cases["split"] = (model([helper.make_node("Split", ["x"], ["a", "b"], axis=1, num_outputs=2, name="split")],
                            {"x": [1, 4, 3, 3]}, {"a": None, "b": None}), ["Slice"])
    cases["identity_dropout_output"] = (
        model([helper.make_node("Relu", ["x"], ["r"], name="relu"), helper.make_node("Dropout", ["r"], ["d"], name="drop"),
               helper.make_node("Identity", ["d"], ["y"], name="id")], {"x": [1, 3, 4, 4]}, {"y": None, "r": None}),
        ["ReLU"])
    # shufflenet's channel shuffle: Reshape to 5-D, Permute, Reshape back
    cases["channel_shuffle"] = (
        model([helper.make_node("Reshape", ["x", "s1"], ["r1"], name="r1"),
               helper.make_node("Transpose", ["r1"], ["t"], perm=[0, 2, 1, 3, 4], name="t"),
               helper.make_node("Reshape", ["t", "s2"], ["y"], name="r2")],
              {"x": [1, 6, 3, 3]}, {"y": None}, {"s1": np.array([1, 2, 3, 3, 3]), "s2": np.array([1, -1, 3, 3])}),
        ["Reshape", "Permute"])
    # the erf chain exporters write for GELU is fused into one Gelu layer
    cases["gelu_erf_chain"] = (
        model([helper.make_node("Div", ["x", "sqrt2"], ["d"], name="/act/Div"),
               helper.make_node("Erf", ["d"], ["e"], name="/act/Erf"),
               helper.make_node("Add", ["e", "one"], ["a"], name="/act/Add"),
               helper.make_node("Mul", ["x", "a"], ["m"], name="/act/Mul"),
               helper.make_node("Mul", ["m", "half"], ["y"], name="/act/Mul_1")],
              {"x": [2, 16]}, {"y": None},
              {"sqrt2": np.float32(np.sqrt(2.0)), "one": np.float32(1.0), "half": np.float32(0.5)}),
        ["Gelu"])
    return cases


CASES.update(_multi_input_cases())


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer(name: str, tmp_path: Path, record_property) -> None:
    record_property("suite", "caffe layers")
    record_property("case", name)
    record_property("ok", False)
    m, expected = CASES[name]
    out, _ = convert_and_compare(m, tmp_path)
    types = layer_types(out)
    for t in expected:
        assert t in types, f"no {t} layer in {types}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.caffemodel", "net.io.json", "net.prototxt"]
    record_property("ok", True)
