"""An ncnn network as plain data (layers, blobs, weights) and its writers: the text `.param`
(magic 7767517, numeric param ids, arrays as -23300-id) and the `.bin` weight file.

Weights are written the way each layer's `load_model` reads them (ncnn src/layer/*.cpp): a
`Weight(..., flagged=True)` is read with `mb.load(n, 0)`, so it starts with a 4-byte type tag
(0 = float32, 0x01306B47 = float16); `flagged=False` is raw float32 (`mb.load(n, 1)`). Every
chunk is padded to 4 bytes, as ncnn's ModelBin expects.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

MAGIC = 7767517
FP16_TAG = 0x01306B47
ParamValue = int | float | list[int] | list[float]


@dataclass
class Weight:
    data: np.ndarray
    flagged: bool  # read by ncnn with a type tag (mb.load(n, 0)) or raw float32 (mb.load(n, 1))


@dataclass
class Layer:
    type: str
    name: str
    inputs: list[str]
    outputs: list[str]
    params: dict[int, ParamValue] = field(default_factory=dict)
    weights: list[Weight] = field(default_factory=list)


@dataclass
class Net:
    layers: list[Layer] = field(default_factory=list)

    def blobs(self) -> list[str]:
        """Every blob, in the order it is produced."""
        return [b for layer in self.layers for b in layer.outputs]


def format_param(value: ParamValue) -> str:
    if isinstance(value, list):
        return ",".join([str(len(value)), *(format_param(v) for v in value)])
    if isinstance(value, (bool, int, np.integer)):
        return str(int(value))
    f = np.float32(value)
    if not np.isfinite(f):
        raise ValueError(f"parameter value {value} is not finite")
    text = str(f)  # shortest float32 round-trip; always holds '.' or 'e', so ncnn reads a float
    assert "." in text or "e" in text
    return text


def param_text(net: Net) -> str:
    lines = [str(MAGIC), f"{len(net.layers)} {len(net.blobs())}"]
    for layer in net.layers:
        parts = [f"{layer.type:<24}", f"{layer.name:<24}", str(len(layer.inputs)), str(len(layer.outputs))]
        parts += layer.inputs + layer.outputs
        for key in sorted(layer.params):
            value = layer.params[key]
            key_text = str(-23300 - key) if isinstance(value, list) else str(key)
            parts.append(f"{key_text}={format_param(value)}")
        lines.append(" ".join(parts).rstrip())
    return "\n".join(lines) + "\n"


def write_bin(f: BinaryIO, net: Net, fp16: bool = False) -> None:
    for layer in net.layers:
        for w in layer.weights:
            for chunk in weight_chunks(w, fp16):
                f.write(chunk)


def weight_chunks(w: Weight, fp16: bool) -> list[bytes | memoryview]:
    """The bytes of one weight as a few buffers; a float32 weight is written straight from its
    array (no copy: weights can be hundreds of MB)."""
    arr = np.ascontiguousarray(w.data, dtype="<f4").reshape(-1)
    if w.flagged and fp16:
        data = arr.astype("<f2").tobytes()
        return [struct.pack("<I", FP16_TAG), data, b"\0" * (-len(data) % 4)]
    chunks: list[bytes | memoryview] = [struct.pack("<I", 0)] if w.flagged else []
    return chunks + [memoryview(arr).cast("B")]

