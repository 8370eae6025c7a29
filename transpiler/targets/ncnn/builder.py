"""Lowering an IR graph to an ncnn `Net`: blobs, shapes, constants, and the calls lowerings use.

Every IR value gets a blob and a concrete ONNX shape (batch 1; the builder computes shapes
itself where ONNX shape inference left a dimension symbolic). A lowering reads its inputs with
`view(value, ncnn_shape)` — the blob reshaped to the ncnn shape the layer wants (a `Reshape`
layer is added only when the shape differs; a constant becomes a `MemoryData` of that shape) —
adds layers with `layer(...)` and binds each output with `bind(value, blob, onnx_shape)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ... import ir
from ...errors import Refusal, UnsupportedModel, UnsupportedOp
from ...names import Namespace, clean
from ..base import OpTable
from .net import Layer, Net, ParamValue, Weight
from .shapes import ncnn_shape

MAX_EXACT_INT = 2**24  # integers are carried as float32: exact up to here


@dataclass
class IoEntry:
    onnx_name: str
    name: str
    onnx_shape: list[int]
    shape: list[int]
    dtype: str


@dataclass
class Lowered:
    net: Net
    inputs: list[IoEntry] = field(default_factory=list)
    outputs: list[IoEntry] = field(default_factory=list)


def shape_params(shape: Sequence[int]) -> dict[int, ParamValue]:
    """ncnn's w/h/d/c params (ids 0, 1, 11, 2) for a numpy-style ncnn shape."""
    keys = {1: (0,), 2: (1, 0), 3: (2, 1, 0), 4: (2, 11, 1, 0)}[len(shape)]
    return {k: int(d) for k, d in zip(keys, shape)}


class Builder:
    def __init__(self, graph: ir.Graph, table: OpTable) -> None:
        self.graph = graph
        self.table = table
        self.net = Net()
        self._blob_names = Namespace()
        self._layer_names = Namespace()
        self._blob: dict[int, str] = {}
        self._shape: dict[int, tuple[int, ...]] = {}
        self.blob_shape: dict[str, tuple[int, ...]] = {}
        self._views: dict[tuple[str, tuple[int, ...]], str] = {}
        self._consts: dict[tuple[int, tuple[int, ...]], str] = {}
        self._keep: list[np.ndarray] = []
        self._view_src: dict[str, str] = {}
        self._poisoned: set[int] = set()
        self.int32_inputs: set[int] = set()  # graph inputs fed as int32 (Embed indices)
        self.users = graph.users()
        self.refusals: list[Refusal] = []
        self.node: ir.Node | None = None

    # -- shapes -----------------------------------------------------------------------------
    def shape(self, v: ir.Value) -> tuple[int, ...]:
        if v.const is not None:
            return tuple(int(d) for d in v.const.shape)
        if id(v) in self._shape:
            return self._shape[id(v)]
        s = v.static_shape
        if s is None:
            raise UnsupportedOp(f"the shape of {v.name!r} is not known")
        return s

    def nshape(self, v: ir.Value) -> tuple[int, ...]:
        return ncnn_shape(self.shape(v))

    @staticmethod
    def const(v: ir.Value | None) -> np.ndarray | None:
        return None if v is None else v.const

    # -- blobs and layers -------------------------------------------------------------------
    def new_blob(self, hint: str, shape: Sequence[int]) -> str:
        name = self._blob_names.fresh(_short(hint), fallback="blob")
        self.blob_shape[name] = tuple(int(d) for d in shape)
        return name

    def layer(
        self,
        type_: str,
        inputs: list[str],
        out_shapes: list[Sequence[int]],
        params: dict[int, ParamValue] | None = None,
        weights: list[Weight] | None = None,
        hint: str | None = None,
        out_hints: list[str] | None = None,
    ) -> list[str]:
        """Add a layer; returns its output blobs (with the given ncnn shapes)."""
        node_hint = hint or (self.node.name if self.node is not None and self.node.name else type_)
        name = self._layer_names.fresh(_short(node_hint), fallback="layer")
        hints = out_hints or [node_hint] * len(out_shapes)
        outs = [self.new_blob(h, s) for h, s in zip(hints, out_shapes)]
        self.net.layers.append(Layer(type_, name, list(inputs), outs, dict(params or {}), list(weights or [])))
        return outs

    def layer1(self, type_: str, inputs: list[str], out_shape: Sequence[int], params=None, weights=None, hint=None) -> str:
        return self.layer(type_, inputs, [out_shape], params, weights, hint)[0]

    def bind(self, v: ir.Value | None, blob: str, shape: Sequence[int]) -> None:
        """`v` is held by `blob`; `shape` is its ONNX shape (checked against what ONNX inferred)."""
        if v is None:
            return
        shape = tuple(int(d) for d in shape)
        if v.shape is not None:
            if len(v.shape) != len(shape) or any(isinstance(a, int) and a != b for a, b in zip(v.shape, shape)):
                raise UnsupportedOp(f"internal: computed shape {list(shape)} of {v.name!r} differs from ONNX's {list(v.shape)}")
        want = ncnn_shape(shape)
        have = self.blob_shape[blob]
        if int(np.prod(have)) != int(np.prod(want)):
            raise UnsupportedOp(f"internal: blob {blob} of shape {list(have)} cannot hold {v.name!r} {list(shape)}")
        self._blob[id(v)] = blob
        self._shape[id(v)] = shape

    def alias(self, out: ir.Value | None, v: ir.Value, shape: Sequence[int]) -> None:
        """`out` is `v` with another shape of the same elements (Reshape, Squeeze...)."""
        if out is None:
            return
        if v.const is not None:
            raise UnsupportedOp("internal: constant reshape should have been folded")
        self.bind(out, self.view(v, ncnn_shape(shape)), shape)

    def blob(self, v: ir.Value) -> str:
        """`v`'s blob in its own ncnn shape."""
        if v.const is not None:
            return self.const_blob(v.const, self.nshape(v), v.name)
        if id(v) not in self._blob:
            raise UnsupportedOp(f"value {v.name!r} has no ncnn blob")
        return self.reshaped(self._blob[id(v)], self.nshape(v))

    def view(self, v: ir.Value, shape: Sequence[int]) -> str:
        """`v`'s data as a blob of ncnn shape `shape` (same elements, same order)."""
        shape = tuple(int(d) for d in shape)
        if v.const is not None:
            return self.const_blob(v.const, shape, v.name)
        if id(v) not in self._blob:
            raise UnsupportedOp(f"value {v.name!r} has no ncnn blob")
        return self.reshaped(self._blob[id(v)], shape)

    def reshaped(self, blob: str, shape: Sequence[int]) -> str:
        shape = tuple(int(d) for d in shape)
        if len(shape) > 4:
            raise UnsupportedOp(f"a {len(shape)}-d view {list(shape)}: ncnn blobs hold at most 4 dims")
        have = self.blob_shape[blob]
        if have == shape:
            return blob
        if int(np.prod(have)) != int(np.prod(shape)):
            raise UnsupportedOp(f"internal: cannot view blob {blob} {list(have)} as {list(shape)}")
        blob = self._view_src.get(blob, blob)  # reshape the original blob, not a view of it
        if self.blob_shape[blob] == shape:
            return blob
        key = (blob, shape)
        if key not in self._views:
            view = self.layer1("Reshape", [blob], shape, shape_params(shape), hint=f"{blob}_reshape")
            self._views[key] = view
            self._view_src[view] = blob
        return self._views[key]

    def const_blob(self, arr: np.ndarray, shape: Sequence[int], hint: str) -> str:
        shape = tuple(int(d) for d in shape)
        key = (id(arr), shape)
        self._keep.append(arr)  # ids are cache keys: the array must outlive the cache
        if key not in self._consts:
            data = float_data(arr, f"constant {hint!r}")
            if len(shape) > 4:
                raise UnsupportedOp(f"constant {hint!r}: {len(shape)} dims")
            self._consts[key] = self.layer1(
                "MemoryData", [], shape, shape_params(shape), [Weight(data.reshape(shape), flagged=False)], hint=hint
            )
        return self._consts[key]

    # -- the whole graph --------------------------------------------------------------------
    def lower(self) -> Lowered:
        lowered = Lowered(self.net)
        for v in self.graph.inputs:
            lowered.inputs.append(self._input(v))
        for node in self.graph.nodes:
            self.node = node
            if any(v is not None and id(v) in self._poisoned for v in node.inputs):
                # downstream of a refused node: not refused itself, its outputs just do not exist
                self._poisoned.update(id(v) for v in node.outputs if v is not None)
                continue
            fn = self.table.get(node.domain, node.op_type)
            mark = len(self.net.layers)
            try:
                if fn is None:
                    raise UnsupportedOp("ncnn has no layer for this op")
                fn(self, node)
                for v in node.outputs:
                    if v is not None and id(v) not in self._blob and v.const is None and self.users.get(id(v)):
                        raise UnsupportedOp(f"output {v.name!r} is not produced")
            except UnsupportedOp as e:
                del self.net.layers[mark:]
                self._views = {k: b for k, b in self._views.items() if b in self.blob_shape and self._made(b)}
                self._consts = {k: b for k, b in self._consts.items() if self._made(b)}
                self.refusals.append(Refusal(node.op_type, node.name, e.reason, node.domain))
                self._poisoned.update(id(v) for v in node.outputs if v is not None)
        self.node = None
        if not self.refusals:
            for v in self.graph.outputs:
                try:
                    lowered.outputs.append(self._output(v))
                except UnsupportedOp as e:
                    self.refusals.append(Refusal("(output)", v.name, e.reason))
        if self.refusals:
            raise UnsupportedModel("ncnn", self.refusals)
        return lowered

    def _made(self, blob: str) -> bool:
        return any(blob in layer.outputs for layer in self.net.layers)

    def _input(self, v: ir.Value) -> IoEntry:
        if v.kind != "tensor" or v.shape is None:
            self.refusals.append(Refusal("(input)", v.name, "ncnn inputs are tensors of known rank"))
            return IoEntry(v.name, "", [], [], "float32")
        shape = list(v.shape)
        if shape and not isinstance(shape[0], int):
            shape[0] = 1  # a symbolic batch is pinned to 1: ncnn has no batch axis
        if shape and shape[0] != 1 and len(shape) >= 3:
            self.refusals.append(
                Refusal("(input)", v.name, f"batch size {shape[0]}: ncnn has no batch axis, only batch 1 converts")
            )
            return IoEntry(v.name, "", [], [], "float32")
        if not all(isinstance(d, int) for d in shape):
            self.refusals.append(Refusal("(input)", v.name, f"shape {shape} has symbolic dims besides the batch"))
            return IoEntry(v.name, "", [], [], "float32")
        try:
            nshape = ncnn_shape(shape)
        except UnsupportedOp as e:
            self.refusals.append(Refusal("(input)", v.name, e.reason))
            return IoEntry(v.name, "", [], [], "float32")
        if v.elem not in ir.FLOAT_TYPES | ir.INT_TYPES | {ir.BOOL}:
            self.refusals.append(Refusal("(input)", v.name, f"element type {v.elem} has no ncnn form"))
        int32 = v.elem in ir.INT_TYPES and self._index_only(v)
        name = self._blob_names.fresh(_short(v.name), fallback="in")
        self.blob_shape[name] = nshape
        self.net.layers.append(Layer("Input", self._layer_names.fresh(name, "input"), [], [name], shape_params(nshape)))
        self._blob[id(v)] = name
        self._shape[id(v)] = tuple(shape)
        return IoEntry(v.name, name, list(shape), list(nshape), "int32" if int32 else "float32")

    def _index_only(self, v: ir.Value) -> bool:
        """`v` (and the reshapes of it) are read only as embedding indices: then its blob holds
        int32 values, which ncnn's Embed reads (recorded in int32_inputs)."""
        readers = self.users.get(id(v), [])
        if not readers or any(id(o) == id(v) for o in self.graph.outputs):
            return False
        chain = [v]
        for n in readers:
            if _reads_as_index(n, v):
                continue
            if n.op_type in ("Reshape", "Flatten", "Squeeze", "Unsqueeze") and n.domain == "" and n.input(0) is v:
                out = n.outputs[0]
                if out is None or not self._index_only(out):
                    return False
                chain.append(out)
                continue
            return False
        self.int32_inputs.update(id(x) for x in chain)
        return True

    def _output(self, v: ir.Value) -> IoEntry:
        shape = self.shape(v)
        nshape = ncnn_shape(shape)
        if v.const is not None:
            blob = self.const_blob(v.const, nshape, v.name)
        else:
            blob = self.view(v, nshape)
        if blob in {layer.outputs[0] for layer in self.net.layers if layer.type == "Input"}:
            blob = self.layer1("Noop", [blob], nshape, hint=f"{v.name}_out")
        return IoEntry(v.name, blob, list(shape), list(nshape), _dtype_name(v.elem))


def _reads_as_index(node: ir.Node, v: ir.Value) -> bool:
    """The node reads `v` only as the indices of an embedding lookup (ncnn Embed wants int32)."""
    return (
        node.op_type == "Gather" and node.domain == "" and node.input(1) is v and node.input(0) is not v
        and node.input(0) is not None and node.input(0).const is not None and node.attr("axis", 0) == 0
        and node.input(0).const.ndim == 2
    )


def _dtype_name(elem: int) -> str:
    return {ir.BOOL: "bool", ir.INT64: "int64", ir.INT32: "int32", ir.FLOAT16: "float16", ir.DOUBLE: "float64"}.get(
        elem, "float32" if elem in ir.FLOAT_TYPES else "int64" if elem in ir.INT_TYPES else "float32"
    )


def float_data(arr: np.ndarray, what: str) -> np.ndarray:
    """A constant as float32, refused when float32 cannot hold its values exactly."""
    if arr.dtype == object or arr.dtype.kind not in "fiub":
        raise UnsupportedOp(f"{what} of type {arr.dtype} has no ncnn form")
    if arr.dtype.kind in "iu":
        if arr.size and int(np.max(np.abs(arr.astype(np.int64)))) > MAX_EXACT_INT:
            raise UnsupportedOp(f"{what} holds integers beyond 2^24, which float32 blobs cannot hold exactly")
    out = arr.astype(np.float32, copy=False)  # float32 weights (most of them) are not copied
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 4:
        if not np.array_equal(out.astype(arr.dtype), arr, equal_nan=True):
            raise UnsupportedOp(f"{what} is float64 with values float32 cannot hold")
    return out


def _short(name: str) -> str:
    """A blob/layer name from an ONNX name ('/layer1/layer1.0/conv1/Conv_output_0' -> 'layer1.0_conv1_Conv')."""
    if name.endswith("_output_0"):
        name = name[: -len("_output_0")]
    parts = [p for p in name.split("/") if p]
    if len(parts) > 2:
        parts = parts[-2:]
    return clean("_".join(parts) or name, "b")
