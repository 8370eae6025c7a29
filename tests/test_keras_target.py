"""The Keras target's own behaviour: training works (BatchNormalization keeps the ONNX epsilon
and momentum, and `fit` moves the weights), `--keras-layout onnx` keeps ONNX layouts, layout
permutations are declared, and ops Keras cannot express exactly are refused all at once."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from transpiler import convert
from transpiler.errors import UnsupportedModel
from transpiler.verify import run_onnxruntime

from .keras_harness import BACKENDS, fit_once, run_sets
from .models import dynamic_batch_cnn

pytest.importorskip("keras")

FIT_BACKENDS = ("jax", "torch", "tensorflow")


def _inputs(batch: int = 2) -> list[np.ndarray]:
    return [np.random.default_rng(0).standard_normal((batch, 3, 8, 8)).astype(np.float32)]


@pytest.mark.parametrize("backend", FIT_BACKENDS)
def test_fit_changes_weights(tmp_path, backend: str) -> None:
    net = tmp_path / "net.py"
    convert(dynamic_batch_cnn(), to="keras", out=net)
    text = net.read_text()
    assert "layers.BatchNormalization(epsilon=0.001, momentum=0.99" in text
    reply = fit_once(backend, net, _inputs())
    assert reply["bn"] == [{"epsilon": 0.001, "momentum": 0.99}]
    # the conv bias feeds BatchNormalization, which subtracts the batch mean in training mode: its
    # gradient is exactly zero (jax gives 0; other backends only rounding noise), so it need not move
    trainable = [
        p for p in reply["all"] if not p.endswith(("moving_mean", "moving_variance")) and p != "conv_layer/bias"
    ]
    assert any(p.startswith("conv_layer/") for p in trainable)  # the conv kernel must still move
    assert set(trainable) <= set(reply["changed"]), f"weights fit did not move: {set(trainable) - set(reply['changed'])}"
    # training mode updates the BatchNormalization statistics too
    assert any(p.endswith("moving_mean") for p in reply["changed"])


@pytest.mark.parametrize("layout", ["keras", "onnx"])
def test_layouts_and_symbolic_batch(tmp_path, layout: str) -> None:
    model = dynamic_batch_cnn()
    net = tmp_path / "net.py"
    convert(model, to="keras", out=net, options={"keras_layout": layout})
    text = net.read_text()
    if layout == "keras":
        assert "INPUT_PERMS = [(0, 2, 3, 1)]" in text
    else:
        assert "INPUT_PERMS = [None]" in text
    assert "batch_shape=(None," in text  # the symbolic batch stays symbolic
    for batch in (1, 3):
        inputs = _inputs(batch)
        (got,) = run_sets("jax", net, [inputs])
        (ref,) = run_onnxruntime(model, inputs)
        np.testing.assert_allclose(got[0], ref, rtol=1e-3, atol=1e-4)


def test_check_option(tmp_path) -> None:
    """--check runs the file in this process on whatever backend keras picked."""
    result = convert(dynamic_batch_cnn(), to="keras", out=tmp_path / "net.py", check=True)
    assert result.check is not None and result.check.ok, result.check.lines()


def test_refusals_listed_at_once(tmp_path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None])
    z = helper.make_tensor_value_info("z", TensorProto.INT64, [3, None])
    nodes = [
        helper.make_node("Unique", ["x"], ["y"], name="unique"),  # data-dependent output shape
        helper.make_node("NonZero", ["x2"], ["z"], name="nonzero"),
        helper.make_node("Reshape", ["x", "shape"], ["x2"], name="flat"),
    ]
    inits = [
        helper.make_tensor("shape", TensorProto.INT64, [3], [1, 2, 64]),
    ]
    graph = helper.make_graph([nodes[2], nodes[0], nodes[1]], "g", [x], [y, z], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    onnx.checker.check_model(model)
    with pytest.raises(UnsupportedModel) as e:
        convert(model, to="keras", out=tmp_path / "net.py")
    text = str(e.value)
    assert "unique" in text and "nonzero" in text
    assert not (tmp_path / "net.py").exists()


RNN_CASES = [
    "test_gru_batchwise", "test_gru_bidirectional", "test_gru_with_initial_bias", "test_lstm_bidirectional",
    "test_lstm_reverse", "test_lstm_with_initial_bias", "test_simple_rnn_batchwise", "test_simple_rnn_reverse",
]


@pytest.mark.parametrize("name", RNN_CASES)
def test_recurrent_layers_with_constant_weights(tmp_path, name: str) -> None:
    """ONNX's RNN node cases feed W, R, B as inputs, which a Keras RNN layer cannot take; here they
    are made initializers, so the LSTM / GRU / SimpleRNN layers (gate order, biases, directions,
    initial states) are checked against ONNX's expected outputs."""
    from onnx import numpy_helper

    from .onnx_cases import all_cases, compare_outputs

    case = all_cases()[name]
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    inputs, expected = case.data_sets[0]
    node = model.graph.node[0]
    keep = []
    for vi, arr in zip(list(model.graph.input), inputs):
        if list(node.input).index(vi.name) in (1, 2, 3):
            model.graph.initializer.append(numpy_helper.from_array(arr, vi.name))
        else:
            keep.append((vi, arr))
    del model.graph.input[:]
    model.graph.input.extend([vi for vi, _ in keep])
    net = tmp_path / "net.py"
    convert(model, to="keras", out=net)
    (got,) = run_sets("jax", net, [[a for _, a in keep]])
    assert compare_outputs(list(expected), got, case.rtol, case.atol) is None


def test_add_of_a_bias_shaped_tensor_on_every_backend(tmp_path) -> None:
    """Keras's TensorFlow add() takes a (1, C, 1) addend of a (N, C, C) tensor for a bias of the
    last axis; the generated code must add it along axis 1 on every backend."""
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [3, 4, 4])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 4, 1])
    c = helper.make_tensor_value_info("c", TensorProto.FLOAT, [4, 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4, 4])
    nodes = [helper.make_node("Add", ["a", "b"], ["t"]), helper.make_node("Sum", ["t", "c", "b"], ["y"])]
    model = helper.make_model(helper.make_graph(nodes, "g", [a, b, c], [y]), opset_imports=[helper.make_opsetid("", 21)])
    convert(model, to="keras", out=tmp_path / "net.py")
    rng = np.random.default_rng(0)
    feeds = [rng.standard_normal(s).astype(np.float32) for s in ((3, 4, 4), (1, 4, 1), (4, 1))]
    want = feeds[0] + feeds[1] + feeds[2] + feeds[1]
    for backend in BACKENDS:
        (got,) = run_sets(backend, tmp_path / "net.py", [feeds])[0]
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=backend)
