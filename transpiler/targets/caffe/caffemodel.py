"""The .caffemodel writer: a binary NetParameter holding each layer's name, type, bottoms, tops and
blobs (what Caffe's CopyTrainedLayersFrom and OpenCV's reader take from it; the layer parameters
live in the .prototxt).

Field numbers come from caffe.proto (proto.py). The small parts of every message are serialised by
protobuf; each blob's float data is streamed straight from its numpy array as a packed repeated
field, so no second copy of the weights is made, even for a 500 MB model.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

from .net import Layer
from .proto import field_numbers, message_class

_LENGTH_DELIMITED = 2


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number: int) -> bytes:
    return _varint(number << 3 | _LENGTH_DELIMITED)


def _f32(arr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(arr, dtype="<f4").reshape(-1)


def write_caffemodel(f: BinaryIO, net_name: str, layers: list[Layer]) -> None:
    net_fields, layer_fields, blob_fields = (field_numbers(m) for m in ("NetParameter", "LayerParameter", "BlobProto"))
    net_msg, layer_cls, blob_cls = message_class("NetParameter"), message_class("LayerParameter"), message_class("BlobProto")
    f.write(net_msg(name=net_name).SerializeToString())
    data_key, blobs_key, layer_key = _key(blob_fields["data"]), _key(layer_fields["blobs"]), _key(net_fields["layer"])
    for layer in layers:
        head = layer_cls(name=layer.name, type=layer.type, bottom=layer.bottoms, top=layer.tops).SerializeToString()
        blobs = []
        for arr in layer.blobs:
            data = _f32(arr)
            shape = blob_cls()
            shape.shape.dim.extend(int(d) for d in arr.shape)
            shape_bytes = shape.SerializeToString()
            nbytes = data.size * 4
            data_head = data_key + _varint(nbytes) if nbytes else b""
            blobs.append((shape_bytes, data_head, data, len(shape_bytes) + len(data_head) + nbytes))
        size = len(head) + sum(len(blobs_key) + len(_varint(b[3])) + b[3] for b in blobs)
        f.write(layer_key + _varint(size) + head)
        for shape_bytes, data_head, data, blob_size in blobs:
            f.write(blobs_key + _varint(blob_size) + shape_bytes + data_head)
            f.write(memoryview(data).cast("B"))
