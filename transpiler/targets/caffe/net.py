"""The Caffe net being built: layers as plain data, and the API a lowering sees (`Ctx`).

A layer is (name, type, bottoms, tops, params, blobs). Each layer's first top is named after the
layer (the Caffe convention `name: "conv1" ... top: "conv1"`), so a graph output can be fetched
by layer name, which is what OpenCV's `forward()` takes. Names come from the model's node names,
kept as they are (prototxt strings are escaped when written) and made unique.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ... import ir
from ...errors import UnsupportedOp


class Enum(str):
    """A protobuf enum value in a layer parameter (written bare: `pool: MAX`)."""


@dataclass
class Layer:
    name: str
    type: str
    bottoms: list[str]
    tops: list[str]
    # parameter messages by field name, e.g. {"convolution_param": {"num_output": 64, ...}};
    # values: int, float, bool, str, Enum, list (repeated), dict (message), list of dicts
    params: dict[str, Any] = field(default_factory=dict)
    blobs: list[np.ndarray] = field(default_factory=list)
    source: str = ""  # the ONNX node this layer comes from (a comment in the prototxt)


class NameTable:
    """Unique layer/blob names: the model's own string when free, else `name_1`, `name_2`, ..."""

    def __init__(self) -> None:
        self._taken: set[str] = set()
        self._counters: dict[str, int] = {}

    def fresh(self, hint: str) -> str:
        # Caffe readers keep names as C strings: a NUL would cut the name short there
        base = (hint or "layer").replace("\x00", "_")
        if base not in self._taken:
            self._taken.add(base)
            return base
        n = self._counters.get(base, 0)
        while True:
            n += 1
            cand = f"{base}_{n}"
            if cand not in self._taken:
                self._counters[base] = n
                self._taken.add(cand)
                return cand


# Placeholder blob for a value whose producer was refused: later nodes are still lowered (so
# their own problems are reported too), nothing is ever written with it.
REFUSED = "\x00refused"


class Net:
    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self.names = NameTable()
        self.blobs: dict[int, str | None] = {}  # id(ir.Value) -> blob name (None: an unread input)
        self.producer: dict[str, Layer] = {}  # blob name -> layer whose top it is

    def add(self, layer: Layer) -> None:
        self.layers.append(layer)
        for t in layer.tops:
            self.producer[t] = layer


def base_name(node: ir.Node) -> str:
    """A layer name from the node: its own name (without the exporter's leading '/'), else the
    name of its first output, else its op type."""
    name = node.name.lstrip("/")
    if not name:
        out = node.output(0)
        name = out.name if out is not None and out.name else node.op_type
    return name


class Ctx:
    """What a lowering sees: the node, its inputs/attributes/constants/shapes, and `layer()`."""

    def __init__(self, net: Net, node: ir.Node) -> None:
        self.net = net
        self.node = node
        self.base = base_name(node)

    # -- reading the node ----------------------------------------------------------------
    def attr(self, key: str, default: Any = None) -> Any:
        return self.node.attr(key, default)

    def input(self, i: int) -> ir.Value | None:
        return self.node.input(i)

    def const(self, i: int) -> np.ndarray | None:
        v = self.node.input(i)
        return None if v is None else v.const

    def need_const(self, i: int, what: str) -> np.ndarray:
        arr = self.const(i)
        if arr is None:
            raise UnsupportedOp(f"{what} must be a constant (Caffe layers keep weights as blobs)")
        return arr

    def blob(self, i: int) -> str:
        """The blob name of input i (a computed tensor, not a constant)."""
        v = self.node.input(i)
        if v is None:
            raise UnsupportedOp(f"input {i} is missing")
        if id(v) in self.net.blobs:
            return self.net.blobs[id(v)]
        if v.const is not None:
            raise UnsupportedOp(f"input {i} ({v.name!r}) is a constant where Caffe needs a computed blob")
        raise UnsupportedOp(f"input {v.name!r} is read before it is computed")

    def shape(self, i: int) -> tuple[int, ...]:
        v = self.node.input(i)
        return _static(v, f"input {i}")

    def out_shape(self, i: int = 0) -> tuple[int, ...]:
        return _static(self.node.output(i), f"output {i}")

    def rank(self, i: int) -> int:
        v = self.node.input(i)
        if v is None or v.rank is None:
            raise UnsupportedOp(f"the rank of input {i} is unknown")
        return v.rank

    # -- building layers -------------------------------------------------------------------
    def layer(self, type_: str, bottoms: list[str], params: dict[str, Any] | None = None,
              blobs: list[np.ndarray] | None = None, *, final: bool = True, tops: int = 1,
              kept: int = 0, role: str | None = None) -> str | list[str]:
        """Add a layer; returns its top (or, with tops > 1, every top name).

        `final=False` marks a helper layer (named `<node>/<role>`, the role defaulting to the
        type); the node's last layer is final
        and carries the node's name. With several tops, top `kept` is named after the layer and
        the others `<layer>:<k>`."""
        name = self.net.names.fresh(self.base if final else f"{self.base}/{role or type_.lower()}")
        top_names = []
        for k in range(tops):
            top_names.append(name if k == kept else self.net.names.fresh(f"{name}:{k}"))
        layer = Layer(name, type_, list(bottoms), top_names, dict(params or {}),
                      [np.ascontiguousarray(b, dtype=np.float32) for b in (blobs or [])],
                      source=self.node.name)
        self.net.add(layer)
        return top_names if tops > 1 else top_names[0]


def _static(v: ir.Value | None, what: str) -> tuple[int, ...]:
    if v is None:
        raise UnsupportedOp(f"{what} is missing")
    shape = v.static_shape
    if shape is None:
        raise UnsupportedOp(f"{what} ({v.name!r}) has no static shape (Caffe layers are shaped when the net is built)")
    return shape


def axis_of(axis: int, rank: int) -> int:
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise UnsupportedOp(f"axis {axis} is out of range for rank {rank}")
    return a
