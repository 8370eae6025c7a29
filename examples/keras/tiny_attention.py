"""TinyAttention, converted from tiny_attention.onnx (sha256 91f796b1fb1bad2df66f790183660cb774699445b2d121dfd23686dfbe96c6dc, opset 17) by transpiler 0.1.0.

Keras 3 functional model; runs on the TensorFlow, JAX and PyTorch backends (KERAS_BACKEND).
Input input: float32 [1x6x16]
Output output: float32 [1x6x16]
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
    """The TinyAttention graph, with untrained weights."""
    input = keras.Input(batch_shape=(1, 6, 16), dtype="float32", name="input")
    out = layers.LayerNormalization(epsilon=1e-05, name="ln1")(input)
    q = layers.Dense(16, name="attn_q")(out)
    q_heads = ops.reshape(q, (1, 6, 2, 8))
    q_t = ops.transpose(q_heads, (0, 2, 1, 3))
    k = layers.Dense(16, name="attn_k")(out)
    k_heads = ops.reshape(k, (1, 6, 2, 8))
    k_t = ops.transpose(k_heads, (0, 2, 3, 1))
    v = layers.Dense(16, name="attn_v")(out)
    v_heads = ops.reshape(v, (1, 6, 2, 8))
    v_t = ops.transpose(v_heads, (0, 2, 1, 3))
    scores = ops.matmul(q_t, k_t)
    scaled = scores * 0.35355338
    probs = ops.softmax(scaled)
    ctx = ops.matmul(probs, v_t)
    ctx_t = ops.transpose(ctx, (0, 2, 1, 3))
    merged = ops.reshape(ctx_t, (1, 6, 16))
    proj = layers.Dense(16, name="attn_proj")(merged)
    res = input + proj
    out_1 = layers.LayerNormalization(epsilon=1e-05, name="ln2")(res)
    fc = layers.Dense(32, name="mlp_fc1")(out_1)
    gelu = ops.gelu(fc, approximate=False)
    fc_1 = layers.Dense(16, name="mlp_fc2")(gelu)
    output = res + fc_1
    return keras.Model(inputs=[input], outputs=[output], name="TinyAttention")


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
