"""SmallCnn, converted from small_cnn.onnx (sha256 79822af1c471c9c023a33765de60be984c10f2bfaa88dddff2fa1917b531cd26, opset 17) by transpiler 0.1.0.

Keras 3 functional model; runs on the TensorFlow, JAX and PyTorch backends (KERAS_BACKEND).
Input input: float32 [1x3x16x16]
Output logits: float32 [1x10]
"""

import os
from pathlib import Path

import keras
from keras import layers, ops
from safetensors.numpy import load_file

# Per input (ONNX order): the permutation taking the ONNX-layout array to this model's layout.
INPUT_PERMS = [(0, 2, 3, 1)]
# Per output: the permutation taking this model's output back to the ONNX layout.
OUTPUT_PERMS = [None]


def build_model() -> keras.Model:
    """The SmallCnn graph, with untrained weights."""
    input = keras.Input(batch_shape=(1, 16, 16, 3), dtype="float32", name="input")
    conv = layers.Conv2D(8, (3, 3), padding="same", name="features_conv1")(input)
    bn = layers.BatchNormalization(epsilon=1e-05, momentum=0.9, name="features_bn1")(conv)
    relu = ops.relu(bn)
    pool = layers.MaxPooling2D((2, 2), name="features_pool")(relu)
    conv_1 = layers.Conv2D(16, (3, 3), padding="same", name="features_conv2")(pool)
    bn_1 = layers.BatchNormalization(epsilon=1e-05, momentum=0.9, name="features_bn2")(conv_1)
    relu_1 = ops.relu(bn_1)
    pool_1 = layers.GlobalAveragePooling2D(keepdims=True, name="pool")(relu_1)
    pool_1_t = ops.transpose(pool_1, (0, 3, 1, 2))
    flatten = ops.reshape(pool_1_t, (1, 16))
    logits = layers.Dense(10, name="classifier")(flatten)
    return keras.Model(inputs=[input], outputs=[logits], name="SmallCnn")


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
