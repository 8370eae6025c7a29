"""The in-memory graph every frontend produces and every target consumes.

Nodes follow the ONNX operator spec in its newest form (the frontend canonicalises older opsets),
so a lowering is written once per op. Nothing here knows about any target framework.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

Dim = int | str | None  # static size, symbolic name, or unknown

# ONNX TensorProto element types, by name; kept as ints so the IR does not depend on onnx.
FLOAT, UINT8, INT8, UINT16, INT16, INT32, INT64, STRING, BOOL = 1, 2, 3, 4, 5, 6, 7, 8, 9
FLOAT16, DOUBLE, UINT32, UINT64, COMPLEX64, COMPLEX128, BFLOAT16 = 10, 11, 12, 13, 14, 15, 16
FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ, UINT4, INT4, FLOAT4E2M1 = (
    17, 18, 19, 20, 21, 22, 23,
)
FLOAT8E8M0, UINT2, INT2 = 24, 25, 26

FLOAT_TYPES = frozenset({FLOAT, FLOAT16, DOUBLE, BFLOAT16})
INT_TYPES = frozenset({UINT8, INT8, UINT16, INT16, INT32, INT64, UINT32, UINT64})


@dataclass(eq=False)
class Value:
    """A tensor (or sequence / optional) flowing between nodes.

    `kind` is "tensor", "sequence", "optional" or "map"; `elem` is the element type of the tensor
    (for sequences and optionals, of the tensors inside); `shape` is None when the rank is unknown.
    `const` holds the data of initializers and folded constants.
    """

    name: str
    elem: int = 0
    shape: tuple[Dim, ...] | None = None
    kind: str = "tensor"
    inner_kind: str = "tensor"  # for optional: what it wraps ("tensor" or "sequence")
    const: np.ndarray | None = None
    producer: Node | None = None
    doc: str = ""

    @property
    def is_const(self) -> bool:
        return self.const is not None

    @property
    def rank(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    @property
    def static_shape(self) -> tuple[int, ...] | None:
        """The shape when every dim is a known integer, else None."""
        if self.shape is None or not all(isinstance(d, int) for d in self.shape):
            return None
        return tuple(self.shape)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Value({self.name!r}, elem={self.elem}, shape={self.shape}, kind={self.kind})"


@dataclass(eq=False)
class Node:
    op_type: str
    inputs: list[Value | None]
    outputs: list[Value | None]
    attrs: dict[str, Any] = field(default_factory=dict)
    domain: str = ""
    name: str = ""
    doc: str = ""

    def input(self, i: int) -> Value | None:
        return self.inputs[i] if i < len(self.inputs) else None

    def output(self, i: int) -> Value | None:
        return self.outputs[i] if i < len(self.outputs) else None

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)

    def subgraphs(self) -> Iterator[Graph]:
        for a in self.attrs.values():
            if isinstance(a, Graph):
                yield a
            elif isinstance(a, list):
                yield from (g for g in a if isinstance(g, Graph))

    def __repr__(self) -> str:
        return f"Node({self.op_type!r}, name={self.name!r})"


@dataclass(eq=False)
class Graph:
    """A topologically ordered list of nodes. A subgraph (If/Loop/Scan body) has a parent and may
    read values of the enclosing graphs by reference."""

    name: str = ""
    nodes: list[Node] = field(default_factory=list)
    inputs: list[Value] = field(default_factory=list)
    outputs: list[Value] = field(default_factory=list)
    initializers: list[Value] = field(default_factory=list)
    opset: dict[str, int] = field(default_factory=dict)
    doc: str = ""
    parent: Graph | None = None

    def users(self) -> dict[int, list[Node]]:
        """id(value) -> nodes of this graph (subgraphs included) that read it."""
        out: dict[int, list[Node]] = {}
        for node in self.walk():
            for v in node.inputs:
                if v is not None:
                    out.setdefault(id(v), []).append(node)
            for g in node.subgraphs():
                for v in captured_values(g):
                    out.setdefault(id(v), []).append(node)
        return out

    def walk(self) -> Iterator[Node]:
        """Every node of this graph, in order (not descending into subgraphs)."""
        yield from self.nodes

    def all_values(self) -> Iterator[Value]:
        seen: set[int] = set()
        for v in [*self.inputs, *self.initializers]:
            if id(v) not in seen:
                seen.add(id(v))
                yield v
        for n in self.nodes:
            for v in n.outputs:
                if v is not None and id(v) not in seen:
                    seen.add(id(v))
                    yield v


def captured_values(graph: Graph) -> list[Value]:
    """Values a subgraph (or its own subgraphs) reads from enclosing graphs."""
    local: set[int] = {id(v) for v in [*graph.inputs, *graph.initializers]}
    for n in graph.nodes:
        local.update(id(v) for v in n.outputs if v is not None)
    out: list[Value] = []
    seen: set[int] = set()

    def add(v: Value) -> None:
        if id(v) not in local and id(v) not in seen:
            seen.add(id(v))
            out.append(v)

    for n in graph.nodes:
        for v in n.inputs:
            if v is not None:
                add(v)
        for g in n.subgraphs():
            for v in captured_values(g):
                add(v)
    for v in graph.outputs:
        add(v)
    return out


def count_nodes(graph: Graph) -> int:
    return sum(1 + sum(count_nodes(g) for g in n.subgraphs()) for n in graph.nodes)
