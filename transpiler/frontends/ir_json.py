"""The canonical IR as readable JSON (`--to ir`) and back: `model.ir.json` beside
`model.ir.safetensors`.

Layout (format "transpiler.ir", version 1):

    {"format": "transpiler.ir", "version": 1,
     "source": {file_name, sha256, opset, graph_name, producer},   # the ONNX model it came from
     "weights": "model.ir.safetensors",                            # beside this file
     "values": {KEY: {"elem": "FLOAT", "shape": ["N", 3, 8, 8], ...}, ...},
     "graph": {"name", "opset", "inputs": [KEY], "outputs": [KEY], "initializers": [KEY],
               "nodes": [{"op", "domain", "name", "inputs": [KEY|null], "outputs": [KEY|null], "attrs"}]}}

Every value (tensor) of the model and its subgraphs is listed once in `values`, keyed by its name
(made unique with `~N` if two values share one); constants either inline (`"data"`, small ones) or
by key into the safetensors file. Attributes are JSON, with tagged objects for what JSON lacks:
`{"tensor": ...}`, `{"graph": ...}`, `{"tuple": [...]}`, `{"float": "nan"}`. Output is
deterministic to the byte: graph order, one value or node per line.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
from onnx import TensorProto

from .. import ir
from ..errors import InvalidModel
from .onnx import ModelInfo

FORMAT, VERSION = "transpiler.ir", 1
INLINE_MAX = 64  # integer constants (shapes, axes) this small are written in the JSON itself (floats: 4)


# -- writing ---------------------------------------------------------------------------------------
class _Writer:
    def __init__(self) -> None:
        self.keys: dict[int, str] = {}
        self.used: set[str] = set()
        self.values: dict[str, dict[str, Any]] = {}
        self.weights: dict[str, np.ndarray] = {}

    def key(self, v: ir.Value) -> str:
        k = self.keys.get(id(v))
        if k is None:
            k, n = v.name or "~", 1
            while k in self.used:
                n += 1
                k = f"{v.name}~{n}"
            self.used.add(k)
            self.keys[id(v)] = k
            self.values[k] = self.value_entry(v, k)
        return k

    def value_entry(self, v: ir.Value, k: str) -> dict[str, Any]:
        e: dict[str, Any] = {}
        if v.name != k:
            e["name"] = v.name
        e["elem"] = TensorProto.DataType.Name(v.elem) if v.elem in TensorProto.DataType.values() else v.elem
        e["shape"] = None if v.shape is None else list(v.shape)
        if v.kind != "tensor":
            e["kind"] = v.kind
        if v.inner_kind != "tensor":
            e["inner_kind"] = v.inner_kind
        if v.const is not None:
            e["const"] = self.tensor(v.const, k)
        if v.doc:
            e["doc"] = v.doc
        return e

    def tensor(self, arr: np.ndarray, key: str) -> dict[str, Any]:
        arr = np.asarray(arr)
        e: dict[str, Any] = {"dtype": arr.dtype.name, "shape": list(arr.shape)}
        if arr.dtype == object:
            e["data"] = [str(x) for x in arr.reshape(-1).tolist()]
        elif arr.size <= (INLINE_MAX if arr.dtype.kind in "biu" else 4) and arr.dtype.kind in "biuf" and _finite(arr):
            e["data"] = arr.reshape(-1).tolist()
        else:
            wkey = key
            n = 1
            while wkey in self.weights:
                n += 1
                wkey = f"{key}~{n}"
            self.weights[wkey] = arr
            e["weights"] = wkey
        return e

    def graph(self, g: ir.Graph) -> dict[str, Any]:
        out: dict[str, Any] = {"name": g.name, "opset": dict(sorted(g.opset.items()))}
        if g.doc:
            out["doc"] = g.doc
        out["inputs"] = [self.key(v) for v in g.inputs]
        out["initializers"] = [self.key(v) for v in g.initializers]
        nodes = []
        for n in g.nodes:
            node: dict[str, Any] = {"op": n.op_type}
            if n.domain:
                node["domain"] = n.domain
            node["name"] = n.name
            node["inputs"] = [None if v is None else self.key(v) for v in n.inputs]
            node["outputs"] = [None if v is None else self.key(v) for v in n.outputs]
            if n.attrs:
                node["attrs"] = {a: self.attr(val, f"{n.name}:{a}") for a, val in sorted(n.attrs.items())}
            if n.doc:
                node["doc"] = n.doc
            nodes.append(node)
        out["nodes"] = nodes
        out["outputs"] = [self.key(v) for v in g.outputs]
        return out

    def attr(self, a: Any, key: str) -> Any:
        if a is None or isinstance(a, (bool, int, str)):
            return a
        if isinstance(a, float):
            return a if math.isfinite(a) else {"float": repr(a)}
        if isinstance(a, np.generic):
            return self.attr(a.item(), key)
        if isinstance(a, np.ndarray):
            return {"tensor": self.tensor(a, key)}
        if isinstance(a, ir.Graph):
            return {"graph": self.graph(a)}
        if isinstance(a, list):
            return [self.attr(x, f"{key}.{i}") for i, x in enumerate(a)]
        if isinstance(a, tuple):
            return {"tuple": [self.attr(x, f"{key}.{i}") for i, x in enumerate(a)]}
        raise TypeError(f"attribute {key!r}: no JSON form for {type(a).__name__}")


def _finite(arr: np.ndarray) -> bool:
    return arr.dtype.kind != "f" or bool(np.all(np.isfinite(arr.astype(np.float64))))


def dump_ir(graph: ir.Graph, info: ModelInfo, weights_name: str) -> tuple[str, dict[str, np.ndarray]]:
    """The JSON text and the tensors for the weights file (raw-byte views for dtypes safetensors
    lacks; the JSON records the real dtype)."""
    w = _Writer()
    body = w.graph(graph)  # assigns keys and fills w.values in graph order
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "source": {
            "file_name": info.file_name, "sha256": info.sha256, "opset": info.opset,
            "graph_name": info.graph_name, "producer": info.producer,
        },
        "weights": weights_name,
        "values": w.values,
        "graph": body,
    }
    return _layout(doc) + "\n", w.weights


def _layout(doc: dict[str, Any]) -> str:
    """JSON with one value / node per line: readable in a diff, and deterministic."""

    def one(x: Any) -> str:
        return json.dumps(x, ensure_ascii=True, separators=(", ", ": "))

    def graph(g: dict[str, Any], ind: str) -> str:
        lines = []
        for k, v in g.items():
            if k == "nodes":
                items = [ind + "  " + _node(n, ind + "  ", graph) for n in v]
                lines.append(f'{ind} "nodes": [' + ("\n" + ",\n".join(items) + "\n" + ind + " ]" if items else "]"))
            else:
                lines.append(f"{ind} {one(k)}: {one(v)}")
        return "{\n" + ",\n".join(lines) + "\n" + ind + "}"

    parts = []
    for k, v in doc.items():
        if k == "values":
            items = [f"  {one(vk)}: {one(vv)}" for vk, vv in v.items()]
            parts.append(' "values": {' + ("\n" + ",\n".join(items) + "\n }" if items else "}"))
        elif k == "graph":
            parts.append(' "graph": ' + graph(v, " "))
        else:
            parts.append(f" {one(k)}: {one(v)}")
    return "{\n" + ",\n".join(parts) + "\n}"


def _node(n: dict[str, Any], ind: str, graph) -> str:  # type: ignore[no-untyped-def]
    """A node on one line, unless it holds subgraphs (those are laid out like the main graph)."""
    if not _has_graph(n.get("attrs", {})):
        return json.dumps(n, ensure_ascii=True, separators=(", ", ": "))
    head = {k: v for k, v in n.items() if k != "attrs"}
    text = json.dumps(head, ensure_ascii=True, separators=(", ", ": "))[:-1] + ', "attrs": {'
    attrs = []
    for k, v in n["attrs"].items():
        attrs.append(f"{ind}  {json.dumps(k)}: " + _attr_layout(v, ind + "  ", graph))
    return text + "\n" + ",\n".join(attrs) + "\n" + ind + "}}"


def _attr_layout(v: Any, ind: str, graph) -> str:  # type: ignore[no-untyped-def]
    if isinstance(v, dict) and "graph" in v:
        return '{"graph": ' + graph(v["graph"], ind) + "}"
    if isinstance(v, list) and _has_graph(v):
        return "[" + ", ".join(_attr_layout(x, ind, graph) for x in v) + "]"
    return json.dumps(v, ensure_ascii=True, separators=(", ", ": "))


def _has_graph(x: Any) -> bool:
    if isinstance(x, dict):
        return "graph" in x or any(_has_graph(v) for v in x.values())
    if isinstance(x, list):
        return any(_has_graph(v) for v in x)
    return False


# -- reading ---------------------------------------------------------------------------------------
def read_ir(path: str | Path) -> tuple[ir.Graph, ModelInfo]:
    """Read a `.ir.json` (and its weights) back into an IR graph. Untrusted input: every problem is
    one InvalidModel line."""
    path = Path(path)
    if not path.is_file():
        raise InvalidModel(f"{path}: no such file")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidModel(f"{path.name}: not a JSON file ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InvalidModel(f"{path.name}: not a transpiler IR file (no \"format\": \"{FORMAT}\")")
    if doc.get("version") != VERSION:
        raise InvalidModel(f"{path.name}: IR version {doc.get('version')!r}; this transpiler reads version {VERSION}")
    try:
        return _Reader(path, doc).read()
    except InvalidModel:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise InvalidModel(f"{path.name}: malformed IR file ({type(e).__name__}: {e})") from None


class _Reader:
    def __init__(self, path: Path, doc: dict[str, Any]) -> None:
        self.path = path
        self.doc = doc
        self._weights: dict[str, np.ndarray] | None = None

    def read(self) -> tuple[ir.Graph, ModelInfo]:
        s = self.doc["source"]
        info = ModelInfo(
            file_name=str(s["file_name"]), sha256=str(s["sha256"]), opset=int(s["opset"]),
            graph_name=str(s["graph_name"]), producer=str(s["producer"]),
        )
        self.values = {str(k): self.value(str(k), e) for k, e in self.doc["values"].items()}
        return self.graph(self.doc["graph"], None), info

    def weights(self) -> dict[str, np.ndarray]:
        if self._weights is None:
            name = str(self.doc["weights"])
            if Path(name).name != name or name in ("", ".", ".."):
                raise InvalidModel(f"{self.path.name}: \"weights\" must be a file name beside it, not {name!r}")
            self._weights = read_safetensors(self.path.parent / name)
        return self._weights

    def value(self, key: str, e: dict[str, Any]) -> ir.Value:
        elem = e["elem"]
        shape = e["shape"]
        v = ir.Value(
            name=str(e.get("name", key)),
            elem=TensorProto.DataType.Value(elem) if isinstance(elem, str) else int(elem),
            shape=None if shape is None else tuple(_dim(d) for d in shape),
            kind=str(e.get("kind", "tensor")),
            inner_kind=str(e.get("inner_kind", "tensor")),
            doc=str(e.get("doc", "")),
        )
        if "const" in e:
            v.const = self.tensor(e["const"])
        return v

    def tensor(self, e: dict[str, Any]) -> np.ndarray:
        dtype = _dtype(str(e["dtype"]))
        shape = tuple(int(d) for d in e["shape"])
        if "data" in e:
            if dtype.kind == "O":
                return np.array([str(x) for x in e["data"]], dtype=object).reshape(shape)
            return np.array(e["data"], dtype=np.float64 if dtype.kind == "f" else None).astype(dtype).reshape(shape)
        arr = self.weights().get(str(e["weights"]))
        if arr is None:
            raise InvalidModel(f"{self.path.name}: tensor {e['weights']!r} is not in the weights file")
        if arr.dtype != dtype:
            arr = np.ascontiguousarray(arr).view(np.uint8).view(dtype)
        return arr.reshape(shape)

    def graph(self, g: dict[str, Any], parent: ir.Graph | None) -> ir.Graph:
        graph = ir.Graph(
            name=str(g["name"]), opset={str(k): int(v) for k, v in g["opset"].items()}, doc=str(g.get("doc", "")),
            parent=parent,
        )
        graph.inputs = [self.values[k] for k in g["inputs"]]
        graph.initializers = [self.values[k] for k in g["initializers"]]
        for n in g["nodes"]:
            node = ir.Node(
                op_type=str(n["op"]),
                inputs=[None if k is None else self.values[k] for k in n["inputs"]],
                outputs=[None if k is None else self.values[k] for k in n["outputs"]],
                domain=str(n.get("domain", "")),
                name=str(n["name"]),
                doc=str(n.get("doc", "")),
            )
            node.attrs = {str(k): self.attr(v, graph) for k, v in n.get("attrs", {}).items()}
            for v in node.outputs:
                if v is not None:
                    v.producer = node
            graph.nodes.append(node)
        graph.outputs = [self.values[k] for k in g["outputs"]]
        return graph

    def attr(self, a: Any, graph: ir.Graph) -> Any:
        if isinstance(a, list):
            return [self.attr(x, graph) for x in a]
        if isinstance(a, dict):
            (tag, body), = a.items()
            if tag == "tensor":
                return self.tensor(body)
            if tag == "graph":
                return self.graph(body, graph)
            if tag == "tuple":
                return tuple(self.attr(x, graph) for x in body)
            if tag == "float":
                return float(body)
            raise ValueError(f"unknown attribute tag {tag!r}")
        return a


def _dim(d: Any) -> ir.Dim:
    if d is None or isinstance(d, (int, str)) and not isinstance(d, bool):
        return d
    raise ValueError(f"bad dim {d!r}")


def _dtype(name: str) -> np.dtype:
    import ml_dtypes

    if name == "object":
        return np.dtype(object)
    if hasattr(ml_dtypes, name) and name not in ("float32", "float64", "int8", "uint8"):
        return np.dtype(getattr(ml_dtypes, name))
    return np.dtype(name)


_SAFETENSORS_NP = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64", "I32": "int32",
    "I16": "int16", "I8": "int8", "U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8", "BOOL": "bool",
    "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2",
}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """A small safetensors reader (numpy has no bfloat16 / float8; ml_dtypes does)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InvalidModel(f"{path.name}: cannot read the weights ({e.strerror or e})") from None
    if len(data) < 8:
        raise InvalidModel(f"{path.name}: not a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise InvalidModel(f"{path.name}: not a safetensors file (header length {n})")
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidModel(f"{path.name}: not a safetensors file (bad header)") from None
    body = memoryview(data)[8 + n :]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        dtype = _dtype(_SAFETENSORS_NP[e["dtype"]])
        start, end = (int(x) for x in e["data_offsets"])
        shape = tuple(int(d) for d in e["shape"])
        if not 0 <= start <= end <= len(body) or (end - start) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise InvalidModel(f"{path.name}: tensor {name!r} has inconsistent offsets")
        out[name] = np.frombuffer(body[start:end], dtype=dtype).reshape(shape).copy()  # writable, like any IR const
    return out
