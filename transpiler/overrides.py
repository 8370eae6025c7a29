"""User fixes applied to a model without editing it: per-node overrides (`--override fix.json`)
and pinned input shapes (`--input-shape x=1,3,224,224`).

An override file maps ONNX node names to what changes on that node:

    {
      "/stem/conv/Conv":   {"attributes": {"pads": [1, 1, 1, 1]}},
      "/head/Reshape":     {"inputs": {"1": [1, -1]}},
      "/blocks.0/act/Mul": {"inputs": {"1": {"value": 0.5, "dtype": "float32"}}},
      "/act/Gelu":         {"lower_as": "com.example::FastGelu"}
    }

- `attributes`: set (or with `null`, remove) attributes; the type follows the op's schema.
- `inputs`: replace input i (by index, or by the input's tensor name) with a constant, given as a
  nested list (dtype of the constant it replaces) or `{"value": ..., "dtype": "..."}`. The new
  constant belongs to this node only, even if the old one was shared.
- `lower_as`: lower this node with another entry of the target's op table (`"Op"` or
  `"domain::Op"`, e.g. one a plugin registered) instead of its own op's.

Attribute and input changes are made on the ONNX model before shape inference, so shapes follow
them; `lower_as` is applied to the IR. Unknown node names, attributes or keys are errors.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import AttributeProto, helper, numpy_helper

from . import ir
from .errors import TranspileError

NODE_KEYS = ("attributes", "inputs", "lower_as")


@dataclass
class NodeFix:
    node: str
    attributes: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    lower_as: tuple[str, str] | None = None  # (domain, op_type)
    original: tuple[str, str] | None = None  # the node's own (domain, op_type), once resolved


class Overrides:
    def __init__(self, fixes: list[NodeFix], origin: str = "overrides") -> None:
        self.fixes = fixes
        self.origin = origin

    @property
    def touches_proto(self) -> bool:
        return any(f.attributes or f.inputs for f in self.fixes)

    def kept_ops(self) -> frozenset[tuple[str, str]]:
        return frozenset(f.original for f in self.fixes if f.lower_as and f.original)

    # -- on the ONNX model ------------------------------------------------------------------
    def apply_to_proto(self, model: onnx.ModelProto) -> list[str]:
        """Check every node name exists and apply attribute and input changes (in place)."""
        nodes: dict[str, list[tuple[onnx.NodeProto, onnx.GraphProto]]] = {}
        for node, graph in _walk(model.graph):
            if node.name:
                nodes.setdefault(node.name, []).append((node, graph))
        missing = [f.node for f in self.fixes if f.node not in nodes]
        if missing:
            lines = []
            for name in missing:
                near = difflib.get_close_matches(name, sorted(nodes), n=3)
                lines.append(f"{name!r}" + (f" (did you mean {', '.join(repr(n) for n in near)}?)" if near else ""))
            raise TranspileError(f"{self.origin}: no node named {'; '.join(lines)}")
        opsets = {("" if o.domain == "ai.onnx" else o.domain): o.version for o in model.opset_import}
        taken = _all_names(model.graph)
        notes = []
        for fix in self.fixes:
            if len(nodes[fix.node]) > 1:
                raise TranspileError(f"{self.origin}: {len(nodes[fix.node])} nodes are named {fix.node!r}; cannot tell which")
            node, graph = nodes[fix.node][0]
            domain = "" if node.domain == "ai.onnx" else node.domain
            fix.original = (domain, node.op_type)
            for key, value in sorted(fix.attributes.items()):
                notes.append(self._set_attribute(node, key, value, opsets.get(domain, opsets.get("", 0))))
            for key, value in sorted(fix.inputs.items()):
                notes.append(self._set_input(model, graph, node, key, value, taken))
        if self.touches_proto:
            _forget_inferred_shapes(model.graph)
        return notes

    def _set_attribute(self, node: onnx.NodeProto, key: str, value: Any, version: int) -> str:
        where = f"{self.origin}: node {node.name!r} ({node.op_type})"
        current = {a.name: a for a in node.attribute}
        schema = _schema(node, version)
        if value is None:
            if key not in current:
                raise TranspileError(f"{where}: has no attribute {key!r} to remove")
            node.attribute.remove(current[key])
            return f"override: {node.name}: removed attribute {key}"
        if key in current:
            attr_type = current[key].type
        elif schema is not None:
            if key not in schema.attributes:
                known = ", ".join(sorted(schema.attributes)) or "none"
                raise TranspileError(f"{where}: {node.op_type} has no attribute {key!r} (it has: {known})")
            attr_type = schema.attributes[key].type
        else:
            attr_type = None
        new = _make_attribute(key, value, attr_type, where)
        if key in current:
            current[key].CopyFrom(new)
        else:
            node.attribute.append(new)
        return f"override: {node.name}: attribute {key} = {json.dumps(value)}"

    def _set_input(
        self, model: onnx.ModelProto, graph: onnx.GraphProto, node: onnx.NodeProto, key: str, value: Any, taken: set[str]
    ) -> str:
        where = f"{self.origin}: node {node.name!r} ({node.op_type})"
        if key.isdigit():
            index = int(key)
        elif key in node.input:
            index = list(node.input).index(key)
        else:
            raise TranspileError(f"{where}: input {key!r} is neither an index nor one of its inputs {list(node.input)}")
        schema = _schema(node, next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0))
        if schema is not None and index >= schema.max_input:
            raise TranspileError(f"{where}: has no input {index} ({node.op_type} takes at most {schema.max_input})")
        old = node.input[index] if index < len(node.input) else ""
        spec = value if isinstance(value, dict) else {"value": value}
        unknown = sorted(set(spec) - {"value", "dtype"})
        if unknown or "value" not in spec:
            raise TranspileError(f"{where}: input {key}: give a list/number or {{\"value\": ..., \"dtype\": ...}}")
        dtype = spec.get("dtype") or _constant_dtype(model, graph, old)
        if dtype is None:
            raise TranspileError(f"{where}: input {key} is not a constant now; say its \"dtype\"")
        try:
            arr = np.array(spec["value"], dtype=np.dtype(dtype))
        except (TypeError, ValueError) as e:
            raise TranspileError(f"{where}: input {key}: {e}") from None
        name = _fresh(f"{node.name}/override_input{index}", taken)
        graph.initializer.append(numpy_helper.from_array(arr, name))
        while len(node.input) <= index:
            node.input.append("")
        node.input[index] = name
        return f"override: {node.name}: input {index} = constant {arr.dtype} {list(arr.shape)}"

    # -- on the IR ----------------------------------------------------------------------------
    def apply_to_ir(self, graph: ir.Graph, target: Any) -> list[str]:
        notes = []
        redirects = [f for f in self.fixes if f.lower_as]
        if not redirects:
            return notes
        by_name: dict[str, list[ir.Node]] = {}
        for node in _walk_ir(graph):
            by_name.setdefault(node.name, []).append(node)
        for fix in redirects:
            domain, op = fix.lower_as  # type: ignore[misc]
            shown = f"{domain}::{op}" if domain else op
            if (domain, op) not in target.table:
                raise TranspileError(
                    f"{self.origin}: node {fix.node!r}: lower_as {shown!r}: the {target.name} table has no such op "
                    "(load the plugin that registers it with --plugin)"
                )
            found = by_name.get(fix.node, [])
            if len(found) != 1:
                raise TranspileError(
                    f"{self.origin}: node {fix.node!r}: lower_as: the frontend rewrote this node "
                    "(expanded or split it), so it cannot be redirected"
                )
            found[0].domain, found[0].op_type = domain, op
            notes.append(f"override: {fix.node}: lowered as {shown}")
        return notes


def load(source: str | os.PathLike[str] | Mapping[str, Any] | Overrides) -> Overrides:
    """Parse an override file (or the same structure as a dict) and check its form."""
    if isinstance(source, Overrides):
        return source
    if isinstance(source, Mapping):
        data, origin = source, "overrides"
    else:
        path = Path(source)
        origin = f"--override {path.name}"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise TranspileError(f"--override {path}: no such file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise TranspileError(f"--override {path}: not a JSON file ({e})") from None
    if not isinstance(data, Mapping):
        raise TranspileError(f"{origin}: must be a JSON object keyed by node name")
    fixes = []
    for name, entry in sorted(data.items()):
        if not isinstance(entry, Mapping) or not entry:
            raise TranspileError(f"{origin}: node {name!r}: give an object with {', '.join(NODE_KEYS)}")
        unknown = sorted(set(entry) - set(NODE_KEYS))
        if unknown:
            raise TranspileError(f"{origin}: node {name!r}: unknown key(s) {unknown} (use {', '.join(NODE_KEYS)})")
        fix = NodeFix(node=str(name))
        attrs, inputs = entry.get("attributes", {}), entry.get("inputs", {})
        if not isinstance(attrs, Mapping) or not isinstance(inputs, Mapping):
            raise TranspileError(f"{origin}: node {name!r}: attributes and inputs are JSON objects")
        fix.attributes, fix.inputs = dict(attrs), {str(k): v for k, v in inputs.items()}
        if "lower_as" in entry:
            target = entry["lower_as"]
            if not isinstance(target, str) or not target.strip(":"):
                raise TranspileError(f"{origin}: node {name!r}: lower_as is \"Op\" or \"domain::Op\"")
            domain, _, op = target.rpartition("::")
            fix.lower_as = ("" if domain == "ai.onnx" else domain, op)
        fixes.append(fix)
    return Overrides(fixes, origin)


def pin_input_shapes(model: onnx.ModelProto, shapes: Mapping[str, Sequence[int]]) -> list[str]:
    """Give graph inputs fixed shapes (in place), before shape inference. A symbolic dim pinned
    on one input is pinned wherever the graph's signature uses the same name."""
    inits = {t.name for t in model.graph.initializer}
    inputs = {vi.name: vi for vi in model.graph.input if vi.name not in inits}
    params: dict[str, int] = {}
    notes = []
    for name, dims in shapes.items():
        if name not in inputs:
            raise TranspileError(f"--input-shape {name}: the model has no input {name!r} (inputs: {', '.join(inputs)})")
        dims = [int(d) for d in dims]
        if any(d < 0 for d in dims):
            raise TranspileError(f"--input-shape {name}: dims must be non-negative integers")
        tt = inputs[name].type.tensor_type
        if inputs[name].type.WhichOneof("value") != "tensor_type":
            raise TranspileError(f"--input-shape {name}: the input is not a tensor")
        if tt.HasField("shape"):
            old = list(tt.shape.dim)
            if len(old) != len(dims):
                raise TranspileError(
                    f"--input-shape {name}: {len(dims)} dims given, but the input has rank {len(old)} "
                    f"({_shape_text(old)})"
                )
            for i, (d, new) in enumerate(zip(old, dims)):
                if d.HasField("dim_value") and d.dim_value != new:
                    raise TranspileError(f"--input-shape {name}: dim {i} is fixed at {d.dim_value} in the model, not {new}")
                if d.HasField("dim_param"):
                    if params.get(d.dim_param, new) != new:
                        raise TranspileError(
                            f"--input-shape: symbolic dim {d.dim_param!r} pinned to both {params[d.dim_param]} and {new}"
                        )
                    params[d.dim_param] = new
        tt.ClearField("shape")
        for d in dims:
            tt.shape.dim.add().dim_value = d
        notes.append(f"input {name}: shape pinned to {dims}")
    g = model.graph
    for vi in [*g.input, *g.output, *g.value_info]:
        if vi.type.WhichOneof("value") == "tensor_type":
            for d in vi.type.tensor_type.shape.dim:
                if d.HasField("dim_param") and d.dim_param in params:
                    d.dim_value = params[d.dim_param]
    return notes


def parse_input_shape(text: str) -> tuple[str, list[int]]:
    """`NAME=1,3,224,224` -> ("NAME", [1, 3, 224, 224]); NAME may itself hold '='."""
    name, sep, dims = text.rpartition("=")
    try:
        values = [int(d) for d in dims.split(",")] if dims.strip() else []
    except ValueError:
        values = None
    if not sep or not name or values is None or any(v < 0 for v in values):
        raise TranspileError(f"--input-shape {text!r}: expected NAME=D0,D1,... with non-negative integers")
    return name, values


# -- helpers --------------------------------------------------------------------------------------
def _walk(graph: onnx.GraphProto) -> Iterator[tuple[onnx.NodeProto, onnx.GraphProto]]:
    for node in graph.node:
        yield node, graph
        for a in node.attribute:
            for g in [a.g] if a.type == AttributeProto.GRAPH else list(a.graphs):
                yield from _walk(g)


def _walk_ir(graph: ir.Graph) -> Iterator[ir.Node]:
    for node in graph.nodes:
        yield node
        for g in node.subgraphs():
            yield from _walk_ir(g)


def _forget_inferred_shapes(graph: onnx.GraphProto) -> None:
    """A changed attribute or constant may change shapes downstream: drop the shapes the model
    recorded for intermediate values and outputs (types stay) so shape inference derives them
    again instead of failing on the stale ones."""
    del graph.value_info[:]
    for vi in graph.output:
        if vi.type.WhichOneof("value") == "tensor_type":
            vi.type.tensor_type.ClearField("shape")
    for node, _ in _walk(graph):
        for a in node.attribute:
            for g in [a.g] if a.type == AttributeProto.GRAPH else list(a.graphs):
                del g.value_info[:]


def _all_names(graph: onnx.GraphProto) -> set[str]:
    names = {t.name for t in graph.initializer} | {vi.name for vi in graph.input}
    for node, g in _walk(graph):
        names.update(node.input)
        names.update(node.output)
        names.update(t.name for t in g.initializer)
    return names


def _fresh(base: str, taken: set[str]) -> str:
    name, i = base, 1
    while name in taken:
        i += 1
        name = f"{base}_{i}"
    taken.add(name)
    return name


def _schema(node: onnx.NodeProto, version: int) -> onnx.defs.OpSchema | None:
    try:
        return onnx.defs.get_schema(node.op_type, version, node.domain)
    except Exception:
        return None


def _constant_dtype(model: onnx.ModelProto, graph: onnx.GraphProto, name: str) -> np.dtype | None:
    if not name:
        return None
    for g in (graph, model.graph):
        for t in g.initializer:
            if t.name == name:
                return helper.tensor_dtype_to_np_dtype(t.data_type)
    for node, _ in _walk(model.graph):
        if node.op_type == "Constant" and name in node.output:
            for a in node.attribute:
                if a.name == "value":
                    return helper.tensor_dtype_to_np_dtype(a.t.data_type)
                if a.name in ("value_float", "value_floats"):
                    return np.dtype(np.float32)
                if a.name in ("value_int", "value_ints"):
                    return np.dtype(np.int64)
    return None


def _make_attribute(key: str, value: Any, attr_type: int | None, where: str) -> AttributeProto:
    A = AttributeProto
    bad = TranspileError(f"{where}: attribute {key}: {json.dumps(value)} does not fit its type")

    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    def is_num(v: Any) -> bool:
        return is_int(v) or isinstance(v, float)

    if attr_type is None:
        return helper.make_attribute(key, value)
    if attr_type == A.INT:
        if not is_int(value):
            raise bad
        return helper.make_attribute(key, value, attr_type=A.INT)
    if attr_type == A.FLOAT:
        if not is_num(value):
            raise bad
        return helper.make_attribute(key, float(value), attr_type=A.FLOAT)
    if attr_type == A.STRING:
        if not isinstance(value, str):
            raise bad
        return helper.make_attribute(key, value, attr_type=A.STRING)
    if attr_type in (A.INTS, A.FLOATS, A.STRINGS):
        check = {A.INTS: is_int, A.FLOATS: is_num, A.STRINGS: lambda v: isinstance(v, str)}[attr_type]
        if not isinstance(value, list) or not all(check(v) for v in value):
            raise bad
        if attr_type == A.FLOATS:
            value = [float(v) for v in value]
        return helper.make_attribute(key, value, attr_type=attr_type)
    if attr_type == A.TENSOR:
        spec = value if isinstance(value, dict) else {"value": value}
        try:
            arr = np.array(spec["value"], dtype=np.dtype(spec["dtype"]) if spec.get("dtype") else None)
        except (KeyError, TypeError, ValueError):
            raise bad from None
        return helper.make_attribute(key, numpy_helper.from_array(arr), attr_type=A.TENSOR)
    raise TranspileError(f"{where}: attribute {key} (type {A.AttributeType.Name(attr_type)}) cannot be overridden")


def _shape_text(dims: list[Any]) -> str:
    return "[" + ", ".join(str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?") for d in dims) + "]"
