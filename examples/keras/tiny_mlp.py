"""TinyMlp, converted from tiny_mlp.onnx (sha256 ef560417571ee6d98ec37ab930da6b27ca2eefd0f97d4203fe62b7edbc9be7f5, opset 17) by transpiler 0.1.0.

Keras 3 functional model; runs on the TensorFlow, JAX and PyTorch backends (KERAS_BACKEND).
Input input: float32 [1x64]
Output probs: float32 [1x10]
"""

import os
from pathlib import Path

import keras
from keras import layers, ops
from safetensors.numpy import load_file

# Per input (ONNX order): the permutation taking the ONNX-layout array to this model's layout.
INPUT_PERMS = [None]
# Per output: the permutation taking this model's output back to the ONNX layout.
OUTPUT_PERMS = [None]


def build_model() -> keras.Model:
    """The TinyMlp graph, with untrained weights."""
    input = keras.Input(batch_shape=(1, 64), dtype="float32", name="input")
    fc = layers.Dense(128, name="fc1")(input)
    relu = ops.relu(fc)
    fc_1 = layers.Dense(64, name="fc2")(relu)
    gelu = ops.gelu(fc_1, approximate=False)
    fc_2 = layers.Dense(10, name="fc3")(gelu)
    probs = ops.softmax(fc_2)
    return keras.Model(inputs=[input], outputs=[probs], name="TinyMlp")


def load_model(weights: str | os.PathLike | None = None) -> keras.Model:
    """build_model() with the weights beside this file (or from `weights`)."""
    model = build_model()
    path = Path(weights) if weights is not None else Path(__file__).with_suffix(".safetensors")
    tensors = load_file(os.fspath(path))
    missing = sorted({v.path for v in model.weights} ^ set(tensors))
    if missing:
        raise ValueError(f"{path}: weights do not match the model: {missing[:5]}")
    for v in model.weights:
        v.assign(tensors[v.path])
    return model
