"""The .prototxt text: layers turned into plain data for templates/caffe_prototxt/net.prototxt.j2.

Every value is written the way protobuf's text format reads it back; every string from the model
(layer and blob names, the net name) goes through `quote`, so no model string can end a literal.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import __version__
from ...frontends.onnx import ModelInfo
from ...render import render
from .net import Enum, Layer

# A field is (key, text) for a scalar, or (key, [fields]) for a message.
Field = tuple[str, Any]

_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"', ord("'"): "\\'", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def quote(text: str) -> str:
    """A protobuf text-format string literal: printable ASCII as is, the rest as octal escapes of
    its UTF-8 bytes (what protobuf's own CEscape writes)."""
    out = []
    for byte in text.encode("utf-8", "surrogatepass"):
        if byte in _ESCAPES:
            out.append(_ESCAPES[byte])
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def scalar(value: Any) -> str:
    if isinstance(value, Enum):
        return str(value)
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(np.float32(value))  # the shortest text that reads back as the same float32
    if isinstance(value, str):
        return quote(value)
    raise TypeError(f"cannot write {type(value).__name__} into a prototxt")


def fields(params: dict[str, Any]) -> list[Field]:
    out: list[Field] = []
    for key, value in params.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            out.append((key, fields(item) if isinstance(item, dict) else scalar(item)))
    return out


def layer_fields(layer: Layer) -> list[Field]:
    out: list[Field] = [("name", quote(layer.name)), ("type", quote(layer.type))]
    out += [("bottom", quote(b)) for b in layer.bottoms]
    out += [("top", quote(t)) for t in layer.tops]
    return out + fields(layer.params)


def render_prototxt(net_name: str, info: ModelInfo, layers: list[Layer], notes: list[str] | None = None) -> str:
    header = (f"converted from {quote(info.file_name)} (sha256 {info.sha256}, opset {info.opset}) "
              f"by transpiler {__version__}")
    # notes are comments: model strings in them are quoted, so a newline cannot end the comment
    return render("caffe_prototxt/net.prototxt.j2", header=header, net_name=quote(net_name),
                  notes=[n.replace("\n", "\\n").replace("\r", "\\r") for n in notes or []],
                  layers=[layer_fields(layer) for layer in layers])
