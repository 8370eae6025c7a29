"""LSTM / GRU (default activations, zero initial state, no peepholes) -> LSTM / GRU.

ncnn keeps gates in I F O G order (LSTM) and R Z N (GRU); ONNX in i o f c and z r h order, so the
weights are regrouped. ncnn's output is (T, H * directions): the same elements as ONNX's Y
[T, directions, 1, H]. Y_h / Y_c are not emitted."""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..builder import Builder, float_data
from ..net import Weight
from . import TABLE

DIRECTIONS = {"forward": 0, "reverse": 1, "bidirectional": 2}


def _checks(b: Builder, node: ir.Node, n_gates: int) -> tuple[int, int, int, int]:
    x = node.input(0)
    shape = b.shape(x)
    layout = int(node.attr("layout", 0))
    if len(shape) != 3:
        raise UnsupportedOp(f"input of rank {len(shape)}")
    t, batch = (shape[0], shape[1]) if layout == 0 else (shape[1], shape[0])
    if batch != 1:
        raise UnsupportedOp(f"batch size {batch}: ncnn has no batch axis")
    for i in (1, 2):
        if node.input(i) is None or node.input(i).const is None:
            raise UnsupportedOp("weights that are not constants")
    if node.input(4) is not None:
        raise UnsupportedOp("sequence_lens")
    for i in range(5, len(node.inputs)):
        v = node.input(i)
        if v is None:
            continue
        if v.const is None or np.any(v.const != 0):
            raise UnsupportedOp("a non-zero initial state or peepholes")
    if node.attr("activations") is not None or node.attr("clip") is not None:
        raise UnsupportedOp("custom activations / clip")
    if int(node.attr("input_forget", 0)) or int(node.attr("linear_before_reset", 0 if n_gates == 4 else 1)) != (0 if n_gates == 4 else 1):
        raise UnsupportedOp("input_forget / linear_before_reset=0")
    for v in node.outputs[1:]:
        if v is not None and b.users.get(id(v)):
            raise UnsupportedOp("the final-state outputs (Y_h / Y_c)")
    direction = node.attr("direction", "forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    return t, shape[2], int(node.attr("hidden_size")), DIRECTIONS[direction]


def _rnn(b: Builder, node: ir.Node, layer: str, order: list[int]) -> None:
    n_gates = len(order)
    t, size, hidden, direction = _checks(b, node, n_gates)
    dirs = 2 if direction == 2 else 1
    w = node.input(1).const.reshape(dirs, n_gates, hidden, size)[:, order]
    r = node.input(2).const.reshape(dirs, n_gates, hidden, hidden)[:, order]
    bias_in = node.input(3)
    if bias_in is not None and bias_in.const is None:
        raise UnsupportedOp("a bias that is not a constant")
    bias = bias_in.const if bias_in is not None else np.zeros((dirs, 2 * n_gates * hidden), np.float32)
    wb = bias.reshape(dirs, 2, n_gates, hidden)[:, :, order]
    if layer == "LSTM":
        bias_c = wb[:, 0] + wb[:, 1]  # (dirs, 4, H)
    else:
        # ncnn GRU bias: R and Z summed, then N's input bias and N's recurrent bias separately
        bias_c = np.concatenate([wb[:, 0, :2] + wb[:, 1, :2], wb[:, 0, 2:3], wb[:, 1, 2:3]], axis=1)
    params = {0: hidden, 1: int(w.size), 2: direction}
    weights = [
        Weight(float_data(np.ascontiguousarray(w), "W").reshape(-1), True),
        Weight(float_data(np.ascontiguousarray(bias_c), "B").reshape(-1), True),
        Weight(float_data(np.ascontiguousarray(r), "R").reshape(-1), True),
    ]
    x = node.input(0)
    blob = b.layer1(layer, [b.view(x, (t, size))], (t, hidden * dirs), params, weights)
    layout = int(node.attr("layout", 0))
    out_shape = (t, dirs, 1, hidden) if layout == 0 else (1, t, dirs, hidden)
    b.bind(node.outputs[0], blob, out_shape)


@TABLE.op("LSTM")
def lstm(b: Builder, node: ir.Node) -> None:
    _rnn(b, node, "LSTM", [0, 2, 1, 3])  # ONNX i o f c -> ncnn I F O G


@TABLE.op("GRU")
def gru(b: Builder, node: ir.Node) -> None:
    _rnn(b, node, "GRU", [1, 0, 2])  # ONNX z r h -> ncnn R Z N
