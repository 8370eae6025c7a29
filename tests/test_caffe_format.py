"""Caffe target, the files themselves: the .caffemodel parses with the project's caffe.proto and
holds the weights; the .prototxt parses with protobuf's text_format and round-trips; model strings
cannot escape their literals; refusals are listed all at once with nothing written; --check works."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from google.protobuf import text_format
from onnx import helper

from transpiler import convert
from transpiler.errors import UnsupportedModel
from transpiler.targets.caffe.proto import file_descriptor, message_class

from .caffe_cases import convert_and_compare, model, one, weights

pytest.importorskip("cv2")


def _small_cnn() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="/features/conv1/Conv", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "s", "bb", "m", "v"], ["n1"], name="/features/bn1/BatchNorm"),
        helper.make_node("Relu", ["n1"], ["r1"], name="/features/relu/Relu"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="/features/pool/MaxPool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p1"], ["f"], name="/flatten/Flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["logits"], name="/fc/Gemm", transB=1),
    ]
    consts = {"w1": weights(4, 3, 3, 3), "b1": weights(4), "s": weights(4), "bb": weights(4), "m": weights(4),
              "v": np.abs(weights(4)) + 0.1, "fw": weights(10, 64), "fb": weights(10)}
    return model(nodes, {"x": [1, 3, 8, 8]}, {"logits": None}, consts, name="small_cnn")


def _net(text: str):
    return text_format.Parse(text, message_class("NetParameter")())


def test_caffemodel_parses_with_project_proto(tmp_path: Path) -> None:
    m = _small_cnn()
    out, _ = convert_and_compare(m, tmp_path)
    net = message_class("NetParameter")()
    net.ParseFromString(out.with_suffix(".caffemodel").read_bytes())
    by_name = {layer.name: layer for layer in net.layer}
    conv = by_name["features/conv1/Conv"]
    assert conv.type == "Convolution"
    w = np.array(conv.blobs[0].data, dtype=np.float32).reshape(list(conv.blobs[0].shape.dim))
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    np.testing.assert_array_equal(w, inits["w1"])
    bn = by_name["features/bn1/BatchNorm/batchnorm"]
    assert [list(b.shape.dim) for b in bn.blobs] == [[4], [4], [1]]
    assert list(bn.blobs[2].data) == [1.0]  # Caffe's moving-average scale factor
    fc = by_name["fc/Gemm"]
    assert list(fc.blobs[0].shape.dim) == [10, 64]
    # the layers of the binary net are the prototxt's, in the same order
    proto_net = _net(out.read_text())
    assert [(x.name, x.type, list(x.bottom), list(x.top)) for x in net.layer] == [
        (x.name, x.type, list(x.bottom), list(x.top)) for x in proto_net.layer]


def test_proto_field_numbers_are_bvlc() -> None:
    """Spot checks against BVLC master's caffe.proto."""
    fields = {(m.name, f.name): f.number for m in file_descriptor().message_type for f in m.field}
    assert fields[("NetParameter", "layer")] == 100
    assert fields[("LayerParameter", "blobs")] == 7
    assert fields[("LayerParameter", "convolution_param")] == 106
    assert fields[("LayerParameter", "pooling_param")] == 121
    assert fields[("LayerParameter", "batch_norm_param")] == 139
    assert fields[("LayerParameter", "scale_param")] == 142
    assert fields[("LayerParameter", "input_param")] == 143
    assert fields[("BlobProto", "shape")] == 7 and fields[("BlobProto", "data")] == 5
    assert fields[("ConvolutionParameter", "dilation")] == 18
    assert fields[("PoolingParameter", "round_mode")] == 13


def test_prototxt_round_trips(tmp_path: Path) -> None:
    out, _ = convert_and_compare(_small_cnn(), tmp_path)
    text = out.read_text()
    net = _net(text)
    again = _net(text_format.MessageToString(net))
    assert again == net
    assert net.name == "small_cnn"
    assert [x.type for x in net.layer] == ["Input", "Convolution", "BatchNorm", "Scale", "ReLU", "Pooling", "Flatten",
                                          "InnerProduct"]
    assert not any(x.HasField("round_mode") for x in (layer.pooling_param for layer in net.layer))
    io = json.loads(out.with_suffix(".io.json").read_text())
    assert io == {
        "inputs": [{"onnx_name": "x", "name": "x", "onnx_shape": [1, 3, 8, 8], "shape": [1, 3, 8, 8]}],
        "outputs": [{"onnx_name": "logits", "name": "fc/Gemm", "onnx_shape": [1, 10], "shape": [1, 10]}],
    }


def test_output_is_deterministic(tmp_path: Path) -> None:
    m = _small_cnn()
    convert(m, to="caffe", out=tmp_path / "a" / "net.prototxt")
    convert(m, to="caffe", out=tmp_path / "b" / "net.prototxt")
    for f in ("net.prototxt", "net.caffemodel", "net.io.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


HOSTILE = ['in"put', "back\\slash", "new\nline } layer {", "ünïcode/名前", "", "tab\there", "'quote'"]


def test_hostile_names_stay_literals(tmp_path: Path) -> None:
    """Names with quotes, backslashes, newlines, braces, non-ASCII survive as the same strings."""
    nodes, prev = [], "x0"
    inputs = {HOSTILE[0]: [1, 2, 3, 3]}
    nodes.append(helper.make_node("Relu", [HOSTILE[0]], [prev], name=HOSTILE[1]))
    for k, name in enumerate(HOSTILE[2:]):
        nxt = f"x{k + 1}"
        nodes.append(helper.make_node("Sigmoid" if k % 2 else "Relu", [prev], [nxt], name=name))
        prev = nxt
    nodes.append(helper.make_node("Identity", [prev], ['out"put\n'], name="id"))
    m = model(nodes, inputs, {'out"put\n': None})
    out, _ = convert_and_compare(m, tmp_path)
    net = _net(out.read_text(encoding="utf-8"))
    names = [layer.name for layer in net.layer]
    assert HOSTILE[0] in names and HOSTILE[1] in names and "new\nline } layer {" in names and "ünïcode/名前" in names
    assert len(set(names)) == len(names)
    io = json.loads(out.with_suffix(".io.json").read_text())
    assert io["inputs"][0]["name"] == HOSTILE[0] and io["outputs"][0]["onnx_name"] == 'out"put\n'


def test_refusals_are_listed_at_once_and_nothing_written(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
        helper.make_node("LpNormalization", ["c"], ["n"], name="lpnorm"),
        helper.make_node("MaxPool", ["n"], ["p"], name="dilated_pool", kernel_shape=[2, 2], dilations=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["g", "b"], ["y"], name="gemm_transA", transA=1),
    ]
    m = model(nodes, {"x": [1, 2, 6, 6], "g": [3, 2]}, {"f": None, "y": None},
              {"w": weights(3, 2, 3, 3), "b": weights(3, 4)})
    out = tmp_path / "out" / "net.prototxt"
    with pytest.raises(UnsupportedModel) as info:
        convert(m, to="caffe", out=out)
    refused = {r.node_name: r.reason for r in info.value.refusals}
    assert set(refused) == {"lpnorm", "dilated_pool", "gemm_transA"}
    assert "dilated" in refused["dilated_pool"] and "transA" in refused["gemm_transA"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("case", ["strided_slice", "broadcast_eltwise", "clip_range", "int_input", "resize_align_corners",
                                  "resize_fractional", "log_softmax"])
def test_inexpressible_is_refused(case: str, tmp_path: Path) -> None:
    if case == "strided_slice":
        m = one("Slice", [1, 4, 4, 4], {"s": np.array([0]), "e": np.array([4]), "a": np.array([1]),
                                        "st": np.array([2])}, extra_inputs=["s", "e", "a", "st"])
    elif case == "broadcast_eltwise":
        m = model([helper.make_node("Add", ["x", "z"], ["y"], name="add")], {"x": [1, 3, 4, 4], "z": [1, 3, 1, 1]},
                  {"y": None})
    elif case == "resize_align_corners":
        m = one("Resize", [1, 2, 4, 4], {"sc": np.array([1, 1, 2, 2], np.float32)}, extra_inputs=["", "sc"],
                mode="linear", coordinate_transformation_mode="align_corners")
    elif case == "resize_fractional":
        m = one("Resize", [1, 2, 4, 4], {"sz": np.array([1, 2, 6, 6])}, extra_inputs=["", "", "sz"], mode="linear")
    elif case == "log_softmax":
        m = one("LogSoftmax", [2, 5])
    elif case == "clip_range":
        m = one("Clip", [1, 3, 4, 4], {"lo": np.float32(-1), "hi": np.float32(1)}, extra_inputs=["lo", "hi"])
    else:
        g = helper.make_graph([helper.make_node("Cast", ["x"], ["y"], to=1, name="cast")], "g",
                              [helper.make_tensor_value_info("x", onnx.TensorProto.INT64, [1, 4])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4])])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
        m.ir_version = 10
    with pytest.raises(UnsupportedModel) as info:
        convert(m, to="caffe", out=tmp_path / "net.prototxt")
    assert info.value.refusals and all(r.reason for r in info.value.refusals)
    assert list(tmp_path.iterdir()) == []


def test_cli_check(tmp_path: Path) -> None:
    src = tmp_path / "small.onnx"
    onnx.save(_small_cnn(), src)
    out = tmp_path / "out" / "net.prototxt"
    proc = subprocess.run([sys.executable, "-m", "transpiler", str(src), "--to", "caffe", "-o", str(out), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "logits" in proc.stdout + proc.stderr
    assert sorted(p.name for p in out.parent.iterdir()) == ["net.caffemodel", "net.io.json", "net.prototxt"]


def test_symbolic_batch_is_fixed_to_one(tmp_path: Path) -> None:
    """A Caffe Input has a fixed shape: a symbolic batch becomes 1 (noted in the prototxt), the
    Shape arithmetic behind a flatten folds away, and io.json keeps the ONNX shape."""
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("Shape", ["c"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0, name="batch"),
        helper.make_node("Unsqueeze", ["n", "ax"], ["n1"], name="unsqueeze"),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0, name="target_shape"),
        helper.make_node("Reshape", ["c", "target"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw"], ["y"], transB=1, name="fc"),
    ]
    consts = {"w": weights(4, 3, 3, 3), "fw": weights(10, 4 * 6 * 6), "zero": np.array(0), "ax": np.array([0]),
              "minus1": np.array([-1])}
    m = model(nodes, {"x": ["N", 3, 6, 6]}, {"y": ["N", 10]}, consts)
    out = tmp_path / "net.prototxt"
    result = convert(m, to="caffe", out=out, check=True)
    assert result.check is not None and result.check.ok, result.check.lines() if result.check else None
    text = out.read_text()
    assert "# input 'x' dim 0 ('N') is fixed to 1" in text
    assert [x.type for x in _net(text).layer] == ["Input", "Convolution", "Reshape", "InnerProduct"]
    io = json.loads(out.with_suffix(".io.json").read_text())
    assert io["inputs"][0]["onnx_shape"] == ["N", 3, 6, 6] and io["inputs"][0]["shape"] == [1, 3, 6, 6]
    assert io["outputs"][0]["onnx_shape"] == ["N", 10] and io["outputs"][0]["shape"] == [1, 10]
